import type { DeviceInfo, DriverDeps } from '../driver.js';
import { parseStatusPayload, type ParsedTopic, type Topics } from './topics.js';

/** Figures both MQTT drivers report in their status. */
export interface MqttCounters {
  /** PUBLISHes received on the hub's topics. */
  messages: number;
  /** Readings handed to the sink and stored. */
  readings: number;
  /** Samples the codec rejected (counted per device and reason by the codec itself). */
  rejected: number;
  duplicates: number;
  gaps: number;
  /** Messages whose readings the store refused (not acknowledged, redelivered later). */
  storeFailures: number;
  /** Messages on a topic that does not name a valid device, or over the packet size limit. */
  invalidTopics: number;
  oversized: number;
  statusUpdates: number;
}

const LOG_EVERY_MS = 60_000;

export class StoreRecoveringError extends Error {
  override readonly name = 'StoreRecoveringError';
}

/**
 * What a PUBLISH on the hub's topics means, shared by the client driver and the embedded broker:
 * imu payloads are decoded with the topic's deviceId as the vouched identity (so a device cannot write
 * another device's readings) and handed to the sink; status payloads become onDeviceInfo calls.
 */
export class MqttInbound {
  readonly counters: MqttCounters = {
    messages: 0, readings: 0, rejected: 0, duplicates: 0, gaps: 0,
    storeFailures: 0, invalidTopics: 0, oversized: 0, statusUpdates: 0,
  };
  private pendingStores = 0;
  /** Set by a store refusal, cleared once no store is pending; see handleImu. */
  private recovering = false;
  private idleWaiters: Array<() => void> = [];
  private lastLogAt = new Map<string, number>();

  constructor(
    private readonly deps: DriverDeps,
    readonly topics: Topics,
  ) {}

  /**
   * Handles one message. Returns the storage of its readings, which resolves once they are durable and
   * rejects when the store refused them; undefined when there is nothing to wait for (status, a payload
   * without a valid reading, a topic that is not ours), in which case the message can be acknowledged.
   */
  handle(topic: string, payload: Buffer): Promise<void> | undefined {
    const parsed = this.topics.parse(topic);
    if (!parsed || parsed.kind === 'cmd') {
      this.counters.invalidTopics++;
      this.warnLimited(`topic:${topic}`, { topic }, 'ignored message on an unexpected topic');
      return undefined;
    }
    return this.handleParsed(parsed, payload);
  }

  /** As handle(), for a topic the caller already parsed as one of the hub's. */
  handleParsed(parsed: ParsedTopic, payload: Buffer): Promise<void> | undefined {
    if (parsed.kind === 'cmd') return undefined;
    this.counters.messages++;
    if (parsed.kind === 'status') {
      this.handleStatus(parsed.deviceId, payload);
      return undefined;
    }
    return this.handleImu(parsed.deviceId, payload);
  }

  /** A PUBLISH over the size limit: its body was skipped unread, and it can never become valid. */
  handleOversized(topic: string, length: number): void {
    this.counters.oversized++;
    this.warnLimited(`oversized:${topic}`, { topic, bytes: length }, 'skipped oversized MQTT message');
  }

  /** Resolves when no storage started by handle() is still pending. */
  idle(): Promise<void> {
    if (this.pendingStores === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private handleImu(deviceId: string, payload: Buffer): Promise<void> | undefined {
    const { codec, log, clock } = this.deps;
    if (this.recovering) {
      // Until every pending store has settled, a store that fails later would rewind readings whose
      // redelivered messages were already decoded here as duplicates (and acknowledged).
      // So after a refusal nothing is decoded until the stores are quiet; the message is redelivered.
      this.counters.storeFailures++;
      return Promise.reject(new StoreRecoveringError('store refused readings; waiting for pending stores'));
    }
    let result;
    try {
      result = codec.decodeJson(payload, { transport: 'mqtt', receivedAt: clock.now(), deviceId });
    } catch (error) {
      // The codec promises not to throw; if it does, that is a bug, and this payload is still rejected.
      this.counters.rejected++;
      log.error({ deviceId, err: error }, 'codec threw on an MQTT payload');
      return undefined;
    }
    this.counters.rejected += result.rejected;
    this.counters.duplicates += result.duplicates;
    this.counters.gaps += result.gaps;
    if (result.hello) {
      const { fw, hz } = result.hello;
      this.reportInfo(deviceId, { ...(fw !== undefined && { fw }), ...(hz !== undefined && { hz }) });
    }
    const readings = result.readings;
    if (readings.length === 0) return undefined;
    this.pendingStores++;
    return this.deps.sink.ingest(readings, 'mqtt').then(
      () => {
        this.counters.readings += readings.length;
        this.storeSettled();
      },
      (error: unknown) => {
        this.counters.storeFailures++;
        // The codec has marked these seqs as seen. Unless it takes them back, the broker's redelivery of
        // this message would be dropped as a duplicate and acknowledged: an acknowledged reading never
        // stored. Rewinding keeps the clock mapping and counters; readings of this device stored after
        // these are stored again when redelivered, which is better than a loss.
        codec.rewind(readings, 'mqtt');
        this.recovering = true;
        this.storeSettled();
        throw error;
      },
    );
  }

  private handleStatus(deviceId: string, payload: Buffer): void {
    if (payload.length === 0) return;
    const info = parseStatusPayload(payload);
    if (!info) {
      this.warnLimited(`status:${deviceId}`, { deviceId }, 'unreadable status payload');
      return;
    }
    this.counters.statusUpdates++;
    this.reportInfo(deviceId, info);
  }

  private reportInfo(deviceId: string, info: DeviceInfo): void {
    try {
      this.deps.onDeviceInfo?.(deviceId, 'mqtt', info);
    } catch (error) {
      this.deps.log.error({ deviceId, err: error }, 'onDeviceInfo listener failed');
    }
  }

  private storeSettled(): void {
    this.pendingStores--;
    if (this.pendingStores === 0) this.recovering = false;
    if (this.pendingStores === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Logs a recurring problem at most once a minute per key, so a misbehaving device cannot flood the log. */
  private warnLimited(key: string, fields: Record<string, unknown>, message: string): void {
    const now = this.deps.clock.now();
    const last = this.lastLogAt.get(key);
    if (last !== undefined && now - last < LOG_EVERY_MS) return;
    if (this.lastLogAt.size > 1000) this.lastLogAt.clear();
    this.lastLogAt.set(key, now);
    this.deps.log.warn(fields, message);
  }
}
