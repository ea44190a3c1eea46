import net from 'node:net';
import type { Aedes, AedesOptions } from 'aedes';
import type { Logger } from 'pino';
import { disableMqttNumberCache } from './packet-number-cache.js';

export interface EmbeddedBrokerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  /** Default 0.0.0.0: devices on the LAN connect to it. */
  host?: string;
  log: Logger;
  /**
   * Runs for every PUBLISH from a client (and every last will) before the broker acknowledges or forwards
   * it. Return undefined or a promise that resolves to let it through; a rejected promise refuses it: the
   * client gets no PUBACK and is disconnected, so it resends on its next connection.
   */
  beforePublish?: (topic: string, payload: Buffer, clientId: string | undefined) => Promise<void> | undefined;
}

export interface EmbeddedBroker {
  readonly port: number;
  readonly aedes: Aedes;
  /** Publishes from the hub itself (commands); it does not pass through beforePublish. */
  publish(topic: string, payload: Buffer, options: { qos: 0 | 1; retain?: boolean }): Promise<void>;
  /** Disconnects every client and stops listening. */
  close(): Promise<void>;
}

/**
 * An aedes broker on a TCP port, for hubs without Mosquitto (SPEC section 4). aedes 1.x is ESM-only and
 * loaded here, lazily, so a hub that uses Mosquitto never loads it.
 *
 * aedes runs authorizePublish for every PUBLISH of one socket read concurrently and writes each PUBACK
 * when its own callback fires. beforePublish work of one client is therefore released in arrival order:
 * a message's PUBACK waits for every earlier message of the same client (MQTT requires in-order PUBACKs),
 * and once one is refused, the later ones of that connection are refused too.
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { Aedes } = await import('aedes');
  disableMqttNumberCache();
  const { log, beforePublish } = options;
  const tails = new WeakMap<object, Promise<void>>();

  const brokerOptions: AedesOptions = {};
  if (beforePublish) {
    brokerOptions.authorizePublish = (client, packet, callback) => {
      let work: Promise<void> | undefined;
      try {
        work = beforePublish(packet.topic, packet.payload as Buffer, client?.id);
      } catch (error) {
        work = Promise.reject(error);
      }
      const previous = client ? tails.get(client) : undefined;
      if (!work && !previous) {
        callback(null);
        return;
      }
      const mine = (async () => {
        await previous;
        await work;
      })();
      if (client) tails.set(client, mine);
      mine.then(
        () => {
          if (client && tails.get(client) === mine) tails.delete(client);
          callback(null);
        },
        (error: unknown) => {
          if (client && tails.get(client) === mine) tails.delete(client);
          callback(error instanceof Error ? error : new Error(String(error)));
        },
      );
    };
  }

  const aedes = await Aedes.createBroker(brokerOptions);
  aedes.on('clientError', (client, error) => log.debug({ clientId: client.id, err: error }, 'embedded broker client error'));
  aedes.on('connectionError', (_client, error) => log.debug({ err: error }, 'embedded broker connection error'));

  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw error;
  }
  const port = (server.address() as net.AddressInfo).port;
  log.info({ host: options.host ?? '0.0.0.0', port }, 'embedded MQTT broker listening');

  let closing: Promise<void> | undefined;
  return {
    port,
    aedes,
    publish: (topic, payload, { qos, retain = false }) =>
      new Promise((resolve, reject) => {
        aedes.publish({ cmd: 'publish', topic, payload, qos, retain, dup: false }, (error) => (error ? reject(error) : resolve()));
      }),
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        // Sockets that never sent CONNECT are not aedes clients; without this server.close() would wait on them.
        for (const socket of sockets) socket.destroy();
        await serverClosed;
      })();
      return closing;
    },
  };
}
