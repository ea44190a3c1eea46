import type { Timer } from '../../daemon/clock.js';
import type { DeviceCommand, Driver, DriverDeps, DriverState, DriverStatus } from '../driver.js';
import { isDeviceId } from '../reading.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';
import { MqttInbound } from './inbound.js';
import { encodeCommand, topicsFor } from './topics.js';

export interface EmbeddedMqttDriverOptions {
  /** 0 picks a free port (tests); see port() for the one in use. */
  port: number;
  /** Default 0.0.0.0. */
  host?: string;
  topicPrefix?: string;
  /** How long stop() waits for stores in flight; default 5 s. */
  drainTimeoutMs?: number;
}

const DEFAULT_DRAIN_TIMEOUT_MS = 5_000;

/**
 * The MQTT transport for a hub without Mosquitto: the hub runs the broker itself (aedes) and handles the
 * hub's topics inside it, instead of subscribing as a client. A device's PUBLISH on `<prefix>/<id>/imu` is
 * decoded and stored from the broker's authorizePublish hook, and only then does the broker acknowledge it
 * and forward it to other subscribers, so a device never holds a PUBACK for a reading the hub could still
 * lose. Status messages (and last wills, which pass the same hook) become onDeviceInfo calls; commands
 * are published straight into the broker. Since nothing subscribes to the imu topic on the hub's behalf,
 * no reading is stored twice. Use either this or MqttDriver, not both.
 *
 * aedes keeps sessions in memory: messages queued for other subscribers do not survive a hub restart,
 * but devices resend what the hub had not acknowledged when they reconnect.
 */
export class EmbeddedMqttDriver implements Driver {
  readonly transport = 'mqtt' as const;
  private readonly inbound: MqttInbound;
  private broker: EmbeddedBroker | undefined;
  private state: DriverState = 'off';
  private detail: string | undefined;

  constructor(
    private readonly deps: DriverDeps,
    private readonly options: EmbeddedMqttDriverOptions,
  ) {
    this.inbound = new MqttInbound(deps, topicsFor(options.topicPrefix));
  }

  /** The port the broker listens on, once started. */
  get port(): number | undefined {
    return this.broker?.port;
  }

  /** Never throws: a port already in use shows as state 'error' with the reason. */
  async start(): Promise<void> {
    if (this.broker) return;
    this.state = 'starting';
    const { topics } = this.inbound;
    try {
      this.broker = await startEmbeddedBroker({
        port: this.options.port,
        host: this.options.host,
        log: this.deps.log,
        beforePublish: (topic, payload) => {
          const parsed = topics.parse(topic);
          // Other topics are ordinary broker traffic; commands are the app's or the hub's own.
          if (!parsed || parsed.kind === 'cmd') return undefined;
          return this.inbound.handleParsed(parsed, payload);
        },
      });
      this.state = 'running';
      this.detail = `embedded broker on port ${this.broker.port}`;
    } catch (error) {
      this.state = 'error';
      this.detail = `embedded broker could not start: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
      this.deps.log.error({ err: error, port: this.options.port }, 'embedded MQTT broker could not start');
    }
  }

  /** Disconnects every client, then waits for the stores already started (their PUBACKs cannot go out). */
  async stop(): Promise<void> {
    const broker = this.broker;
    this.broker = undefined;
    if (broker) await broker.close();
    let timer: Timer | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = this.deps.clock.setTimeout(resolve, this.options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS);
    });
    await Promise.race([this.inbound.idle(), timedOut]);
    this.deps.clock.clearTimeout(timer);
    this.state = 'stopped';
    this.detail = undefined;
  }

  status(): DriverStatus {
    return {
      state: this.state,
      ...(this.detail !== undefined && { detail: this.detail }),
      embedded: true,
      ...(this.broker && { port: this.broker.port, clients: this.broker.aedes.connectedClients }),
      ...this.inbound.counters,
    };
  }

  /** True once the broker has taken the command (a device subscribed to its cmd topic receives it). */
  async sendCommand(deviceId: string, command: DeviceCommand): Promise<boolean> {
    const broker = this.broker;
    if (!broker || !isDeviceId(deviceId)) return false;
    try {
      await broker.publish(this.inbound.topics.command(deviceId), encodeCommand(command), { qos: 1 });
      return true;
    } catch (error) {
      this.deps.log.warn({ deviceId, err: error }, 'MQTT command not published');
      return false;
    }
  }
}
