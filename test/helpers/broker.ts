import net from 'node:net';
import type { Aedes } from 'aedes';

export interface TestBroker {
  url: string;
  port: number;
  /** The running aedes instance; undefined when MQTT_URL points at an external broker. */
  readonly aedes: Aedes | undefined;
  /** False for an external broker, which the tests cannot restart. */
  readonly canRestart: boolean;
  close(): Promise<void>;
  /**
   * Stops the broker (every client is disconnected) and starts a new one on the same port. Sessions,
   * subscriptions, queued and unacknowledged messages carry over, as with Mosquitto's `persistence true`,
   * unless keepSessions is false.
   */
  restart(options?: { keepSessions?: boolean; beforeStart?: () => void | Promise<void> }): Promise<void>;
}

interface Running {
  aedes: Aedes;
  server: net.Server;
  sockets: Set<net.Socket>;
}

/**
 * An aedes broker on 127.0.0.1 (a free port), or the broker at env MQTT_URL (for instance Mosquitto)
 * when it is set.
 */
export async function startBroker(): Promise<TestBroker> {
  const external = process.env.MQTT_URL;
  if (external) {
    const url = new URL(external);
    return {
      url: external,
      port: Number(url.port || 1883),
      aedes: undefined,
      canRestart: false,
      close: async () => undefined,
      restart: async () => {
        throw new Error('cannot restart the external broker at MQTT_URL');
      },
    };
  }
  let running = await listen(0, undefined);
  const port = (running.server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    get aedes() {
      return running.aedes;
    },
    canRestart: true,
    close: () => stop(running),
    async restart({ keepSessions = true, beforeStart } = {}) {
      const persistence = keepSessions ? (running.aedes as unknown as { persistence: unknown }).persistence : undefined;
      await stop(running);
      await beforeStart?.();
      running = await listen(port, persistence);
    },
  };
}

async function listen(port: number, persistence: unknown): Promise<Running> {
  const { Aedes } = await import('aedes');
  const aedes = await Aedes.createBroker(persistence ? { persistence } : {});
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { aedes, server, sockets };
}

async function stop({ aedes, server, sockets }: Running): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  await new Promise<void>((resolve) => aedes.close(() => resolve()));
  for (const socket of sockets) socket.destroy();
  await closed;
}
