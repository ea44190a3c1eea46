import type tls from 'node:tls';
import { backoffDelayMs, type Timer } from '../../daemon/clock.js';
import type { DeviceCommand, Driver, DriverDeps, DriverState, DriverStatus } from '../driver.js';
import { isDeviceId } from '../reading.js';
import { MqttConnection, StoreRefusedError } from './connection.js';
import { MqttInbound } from './inbound.js';
import { encodeCommand, topicsFor } from './topics.js';

export const DEFAULT_MQTT_URL = 'mqtt://127.0.0.1:1883';

export interface MqttDriverOptions {
  /** Broker URL; default mqtt://127.0.0.1:1883. */
  url?: string;
  /** Fixed client id, so the broker keeps the hub's session (the daemon passes `gymhub-<hubId>`). */
  clientId: string;
  topicPrefix?: string;
  /** 4 = MQTT 3.1.1 (default), 5 = MQTT 5. */
  protocolVersion?: 4 | 5;
  username?: string;
  password?: string;
  tls?: tls.ConnectionOptions;
  keepaliveS?: number;
  connectTimeoutMs?: number;
  /**
   * Unacknowledged messages, or their total payload bytes, at which the hub stops reading from the broker
   * until half of them are stored: the bound on memory held by messages in flight.
   */
  maxInFlight?: number;
  maxInFlightBytes?: number;
  /** Larger PUBLISHes are skipped unread, acknowledged and counted. */
  maxPacketBytes?: number;
  reconnectBaseMs?: number;
  reconnectCapMs?: number;
  /** How long stop() waits for stores in flight before closing anyway. */
  drainTimeoutMs?: number;
  /** For tests: the jitter source of the reconnect backoff. */
  random?: () => number;
}

const DEFAULTS = {
  keepaliveS: 30,
  connectTimeoutMs: 10_000,
  maxInFlight: 1000,
  maxInFlightBytes: 4 * 1024 * 1024,
  // Above the codec's own payload limit, so that the codec judges (and counts per device) most big
  // payloads, while the framer skips what is not worth buffering at all.
  maxPacketBytes: 512 * 1024,
  reconnectBaseMs: 500,
  reconnectCapMs: 30_000,
  drainTimeoutMs: 5_000,
};
/** A connection that lasted this long resets the backoff; one that keeps failing at once does not. */
const STABLE_CONNECTION_MS = 10_000;
const COMMAND_QOS = 1;

/**
 * The hub's MQTT client (SPEC section 4): subscribes to `<prefix>/+/imu` and `<prefix>/+/status` at QoS 1
 * with a persistent session, stores readings through the sink before acknowledging them, and reconnects
 * with capped exponential backoff and jitter.
 *
 * When the store refuses readings (disk full), the message is not acknowledged and the connection is
 * dropped: MQTT redelivers an unacknowledged message only on a new connection, and acks must go out in
 * order, so nothing after it could be acknowledged anyway. The reconnect then backs off (a refusal does not
 * count as a stable connection), so a full disk gives a slow retry loop, visible in status(), that
 * recovers by itself once the store accepts again. Messages after the refused one are redelivered too;
 * those already stored may be stored twice (the codec rewinds the refused readings, see inbound.ts).
 *
 * While reading is paused at the in-flight bound, a broker that went away is noticed when the window
 * drains and reading resumes, or at the next write (PUBACK, PINGREQ).
 */
export class MqttDriver implements Driver {
  readonly transport = 'mqtt' as const;
  private readonly inbound: MqttInbound;
  private readonly settings: typeof DEFAULTS & MqttDriverOptions;
  private connection: MqttConnection | undefined;
  private state: DriverState = 'off';
  private detail: string | undefined;
  private lastError: string | undefined;
  private reconnects = 0;
  private attempt = 0;
  private connectedAt = 0;
  private sessionPresent = false;
  private reconnectTimer: Timer | undefined;
  private stopping = false;
  private attemptInProgress: Promise<void> | undefined;
  private listeners = new Set<(status: DriverStatus) => void>();

  constructor(
    private readonly deps: DriverDeps,
    options: MqttDriverOptions,
  ) {
    this.settings = { ...DEFAULTS, ...options };
    this.inbound = new MqttInbound(deps, topicsFor(options.topicPrefix));
  }

  /** Resolves after the first connection attempt, connected or not; failures show in status(). */
  async start(): Promise<void> {
    this.stopping = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.deps.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    await this.attemptInProgress;
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await connection.close(this.settings.drainTimeoutMs);
    await this.settleStores();
    this.setState('stopped', undefined);
  }

  /** Waits for stores still pending (their PUBACKs can no longer go out), at most drainTimeoutMs. */
  private async settleStores(): Promise<void> {
    let timer: Timer | undefined;
    const timedOut = new Promise<void>((resolve) => { timer = this.deps.clock.setTimeout(resolve, this.settings.drainTimeoutMs); });
    await Promise.race([this.inbound.idle(), timedOut]);
    this.deps.clock.clearTimeout(timer);
  }

  status(): DriverStatus {
    return {
      state: this.state,
      ...(this.detail !== undefined && { detail: this.detail }),
      url: redactUrl(this.settings.url ?? DEFAULT_MQTT_URL),
      clientId: this.settings.clientId,
      sessionPresent: this.sessionPresent,
      reconnects: this.reconnects,
      inFlight: this.connection?.inFlight ?? 0,
      ...(this.lastError !== undefined && { lastError: this.lastError }),
      ...this.inbound.counters,
    };
  }

  /** Called with the new status on every change of state or detail. Returns the unsubscribe function. */
  onStateChange(listener: (status: DriverStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Publishes the command to `<prefix>/<deviceId>/cmd` at QoS 1. True once the broker accepted it; false
   * when the hub is not connected or the broker refused. A command that was not acknowledged before a
   * disconnect is not resent later: a stale "start" is worse than a failed one the caller can retry.
   */
  async sendCommand(deviceId: string, command: DeviceCommand): Promise<boolean> {
    const connection = this.connection;
    if (!connection || this.state !== 'running' || !isDeviceId(deviceId)) return false;
    try {
      await connection.publish(this.inbound.topics.command(deviceId), encodeCommand(command), COMMAND_QOS);
      return true;
    } catch (error) {
      this.deps.log.warn({ deviceId, err: error }, 'MQTT command not delivered to the broker');
      return false;
    }
  }

  private connect(): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.stopping) return Promise.resolve();
    const attempt = this.attemptConnection().finally(() => {
      if (this.attemptInProgress === attempt) this.attemptInProgress = undefined;
    });
    this.attemptInProgress = attempt;
    return attempt;
  }

  private async attemptConnection(): Promise<void> {
    // Stores of the previous connection must settle first: one that fails rewinds its readings in the
    // codec, which has to happen before their redelivered messages are decoded (see inbound.ts).
    await this.inbound.idle();
    if (this.stopping) return;
    this.setState('connecting', this.lastError ? `reconnecting after: ${this.lastError}` : undefined);
    const { settings, deps } = this;
    const { topics } = this.inbound;
    let connection: MqttConnection | undefined;
    try {
      connection = await MqttConnection.connect(
        {
          url: settings.url ?? DEFAULT_MQTT_URL,
          clientId: settings.clientId,
          protocolVersion: settings.protocolVersion ?? 4,
          keepaliveS: settings.keepaliveS,
          username: settings.username,
          password: settings.password,
          tls: settings.tls,
          connectTimeoutMs: settings.connectTimeoutMs,
          maxInFlight: settings.maxInFlight,
          maxInFlightBytes: settings.maxInFlightBytes,
          maxPacketBytes: settings.maxPacketBytes,
          clock: deps.clock,
        },
        {
          onPublish: (message) => this.inbound.handle(message.topic, message.payload),
          onOversized: (info) => this.inbound.handleOversized(info.topic, info.length),
          onClose: (error) => this.onConnectionClosed(connection, error),
        },
      );
      if (this.stopping) {
        await connection.close(this.settings.drainTimeoutMs);
        return;
      }
      this.connection = connection;
      this.connectedAt = deps.clock.now();
      this.sessionPresent = connection.sessionPresent;
      // Subscribing again on a resumed session is harmless and repairs a session the broker lost.
      const granted = await connection.subscribe([
        { topic: topics.imuFilter, qos: 1 },
        { topic: topics.statusFilter, qos: 1 },
      ]);
      if (granted.some((code) => code >= 0x80)) throw new Error(`broker refused subscription (${granted.join(',')})`);
      if (this.stopping || this.connection !== connection) return;
      deps.log.info({ url: redactUrl(settings.url ?? DEFAULT_MQTT_URL), sessionPresent: connection.sessionPresent }, 'MQTT connected');
      this.setState('running', undefined);
    } catch (error) {
      this.lastError = errorText(error);
      if (connection) {
        // Established, then lost or unusable (subscription refused): its onClose schedules the retry.
        connection.destroy(error instanceof Error ? error : new Error(this.lastError));
        return;
      }
      deps.log.warn({ err: error, attempt: this.attempt }, 'MQTT connection failed');
      this.scheduleReconnect();
    }
  }

  private onConnectionClosed(connection: MqttConnection | undefined, error: Error | undefined): void {
    if (connection !== undefined && this.connection !== connection) return;
    this.connection = undefined;
    if (this.stopping) return;
    this.reconnects++;
    this.lastError = error ? errorText(error) : 'connection closed';
    const stable = !(error instanceof StoreRefusedError) && this.deps.clock.now() - this.connectedAt >= STABLE_CONNECTION_MS;
    if (stable) this.attempt = 0;
    const level = error instanceof StoreRefusedError ? 'error' : 'warn';
    this.deps.log[level]({ err: error }, 'MQTT connection lost');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopping) return;
    const { reconnectBaseMs, reconnectCapMs, random } = this.settings;
    const delayMs = backoffDelayMs(this.attempt, reconnectBaseMs, reconnectCapMs, random);
    this.attempt++;
    this.reconnectTimer = this.deps.clock.setTimeout(() => void this.connect(), delayMs);
    this.setState('connecting', `retrying in ${delayMs} ms after: ${this.lastError}`);
  }

  private setState(state: DriverState, detail: string | undefined): void {
    if (this.state === state && this.detail === detail) return;
    this.state = state;
    this.detail = detail;
    const status = this.status();
    for (const listener of this.listeners) {
      try {
        listener(status);
      } catch (error) {
        this.deps.log.error({ err: error }, 'MQTT status listener failed');
      }
    }
  }
}

function errorText(error: unknown): string {
  if (error instanceof StoreRefusedError && error.cause !== undefined) return `${error.message}: ${errorText(error.cause)}`;
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ?? error.message;
  return String(error);
}

/** Status and logs show the broker URL without its password. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'invalid URL';
  }
}
