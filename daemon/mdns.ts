import type { Logger } from 'pino';

/** The service type the app browses for (SPEC section 10): `_gymhub._tcp`. */
export const MDNS_SERVICE_TYPE = 'gymhub';

export interface MdnsOptions {
  /** The API's port. */
  port: number;
  hubId: string;
  log: Logger;
  /** The instance name the app shows; default `gymhub-<last 6 of hubId>`, unique per hub. */
  name?: string;
  /** Extra TXT entries (the version, ...). */
  txt?: Record<string, string>;
  /**
   * multicast-dns socket options; tests use { interface: '127.0.0.1', bind: '0.0.0.0', port: <not 5353> }
   * so that nothing leaves the loopback interface. Default: every interface, port 5353.
   */
  multicast?: { interface?: string; bind?: string; port?: number };
}

export interface MdnsAdvertiser {
  stop(): Promise<void>;
}

/** The part of bonjour-service's internals that carries the UDP socket's errors (see startMdns). */
interface WithSocketEvents {
  server?: { mdns?: { on(event: 'error' | 'warning', listener: (err: Error) => void): void } };
}

const STOP_TIMEOUT_MS = 1_000;

/**
 * Advertises the API as `_gymhub._tcp` with the hubId in TXT, so the gym's app finds the hub on the LAN.
 * Never throws and never crashes the daemon: a host without multicast (no route, port 5353 taken by a
 * daemon that does not share it, a container) logs a warning and the hub carries on unadvertised.
 */
export async function startMdns(options: MdnsOptions): Promise<MdnsAdvertiser> {
  const { log } = options;
  const name = options.name ?? `gymhub-${options.hubId.slice(-6).toLowerCase()}`;
  let failed = false;
  const fail = (err: Error, what: string) => {
    if (failed) return;
    failed = true;
    log.warn({ err, port: options.port }, `mDNS: ${what}; the hub is not advertised on the LAN (the app can still be given its address)`);
  };
  try {
    const { Bonjour } = await import('bonjour-service');
    // Without an error callback bonjour-service throws from a socket callback, which would end the process.
    const bonjour = new Bonjour({ ...options.multicast }, (err: Error) => fail(err, 'cannot answer queries'));
    // multicast-dns emits 'error' (bind failures, EACCES, EADDRINUSE) with no listener of its own: an
    // unhandled 'error' event would be thrown.
    const socket = (bonjour as unknown as WithSocketEvents).server?.mdns;
    socket?.on('error', (err) => fail(err, 'cannot open the multicast socket'));
    socket?.on('warning', (err) => log.debug({ err }, 'mDNS warning'));
    const service = bonjour.publish({
      name,
      type: MDNS_SERVICE_TYPE,
      protocol: 'tcp',
      port: options.port,
      txt: { hubId: options.hubId, ...options.txt },
      // The name carries the hubId, so it is unique; probing would only delay the announcement (and
      // bonjour-service reports a clash with console.log).
      probe: false,
    });
    log.info({ name, type: `_${MDNS_SERVICE_TYPE}._tcp`, port: options.port }, 'mDNS: advertising the API');
    return {
      stop: () => new Promise<void>((resolve) => {
        // Unpublishing sends goodbye packets; on a broken socket their callback may never come.
        const timer = setTimeout(done, STOP_TIMEOUT_MS);
        timer.unref();
        let finished = false;
        function done() {
          if (finished) return;
          finished = true;
          clearTimeout(timer);
          try {
            bonjour.destroy();
          } catch (err) {
            log.debug({ err }, 'mDNS: destroy failed');
          }
          resolve();
        }
        try {
          service.stop?.(done);
        } catch (err) {
          log.debug({ err }, 'mDNS: unpublish failed');
          done();
        }
      }),
    };
  } catch (err) {
    fail(err as Error, 'cannot start');
    return { stop: async () => undefined };
  }
}
