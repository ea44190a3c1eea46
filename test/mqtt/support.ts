/** What the MQTT tests share: a recording sink, device clients, payloads, and waiting on events. */
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { systemClock, type Clock } from '../../daemon/clock.js';
import { Codec } from '../../drivers/codec/codec.js';
import type { DeviceInfo, DriverDeps, DriverStatus, ReadingSink } from '../../drivers/driver.js';
import type { Reading, Transport } from '../../drivers/reading.js';

export const silentLog = pino({ level: 'silent' });

/**
 * Appended to client and device ids: an external broker (MQTT_URL) keeps sessions and retained messages
 * from earlier runs, which must not leak into this one.
 */
export const RUN = process.env.MQTT_URL ? `-${Date.now().toString(36)}` : '';

/** MQTT_PROTOCOL=5 runs hub and devices on MQTT 5 (needs an MQTT 5 broker at MQTT_URL; aedes speaks 3.1.1). */
export const PROTOCOL: 4 | 5 = process.env.MQTT_PROTOCOL === '5' ? 5 : 4;

interface Held {
  readings: Reading[];
  resolve(): void;
  reject(error: Error): void;
}

/**
 * A ReadingSink that records what it stored. Modes: 'group' resolves every ingest of one event-loop turn
 * together on setImmediate (like the store's group commit), 'hold' keeps each ingest pending until the
 * test releases it, 'fail' rejects as a full disk would.
 */
export class RecordingSink implements ReadingSink {
  readonly stored: Reading[] = [];
  calls = 0;
  mode: 'group' | 'hold' | 'fail' = 'group';
  readonly held: Held[] = [];
  private waiters: Array<{ check: () => boolean; resolve: () => void }> = [];
  private batch: Array<() => void> = [];

  ingest(readings: Reading[], transport: Transport): Promise<void> {
    if (transport !== 'mqtt') throw new Error(`unexpected transport ${transport}`);
    this.calls++;
    let promise: Promise<void>;
    if (this.mode === 'fail') {
      promise = Promise.reject(new Error('store full'));
    } else if (this.mode === 'hold') {
      promise = new Promise((resolve, reject) => {
        this.held.push({ readings, resolve: () => { this.accept(readings); resolve(); }, reject });
      });
    } else {
      promise = new Promise((resolve) => {
        if (this.batch.length === 0) setImmediate(() => this.commit());
        this.batch.push(() => { this.accept(readings); resolve(); });
      });
    }
    this.notify();
    return promise;
  }

  /** Resolves the first n held ingests (all by default), oldest first. */
  release(n = this.held.length): void {
    for (const held of this.held.splice(0, n)) held.resolve();
  }

  /** Resolves when check() holds, re-checked after every ingest call and every store. */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ check, resolve }));
  }

  seqsOf(deviceId: string): number[] {
    return this.stored.filter((r) => r.deviceId === deviceId).map((r) => r.seq ?? -1);
  }

  private commit(): void {
    const batch = this.batch;
    this.batch = [];
    for (const done of batch) done();
  }

  private accept(readings: Reading[]): void {
    this.stored.push(...readings);
    this.notify();
  }

  private notify(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.check()) return true;
      w.resolve();
      return false;
    });
  }
}

export interface Harness {
  deps: DriverDeps;
  sink: RecordingSink;
  infos: Array<{ deviceId: string; info: DeviceInfo }>;
}

export function harness(clock: Clock = systemClock): Harness {
  const sink = new RecordingSink();
  const infos: Harness['infos'] = [];
  const deps: DriverDeps = {
    codec: new Codec({ clock, log: silentLog }),
    sink,
    log: silentLog,
    clock,
    onDeviceInfo: (deviceId, _transport, info) => infos.push({ deviceId, info }),
  };
  return { deps, sink, infos };
}

/** Format (b) with `samples` samples whose seq starts at `seq`. */
export function compactBatch(deviceId: string, seq: number, samples = 10, t0 = Date.now()): string {
  const s: number[][] = [];
  for (let i = 0; i < samples; i++) s.push([0.1 * i, -0.2, 9.81, 0.01, 0.02 * i, -0.03]);
  return JSON.stringify({ d: deviceId, t0, dt: 10, seq, s });
}

/** A device (or any other client) on the broker, as mqtt.js, the library ESP32 tooling mirrors. */
export async function connectDevice(url: string, options: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { reconnectPeriod: 20, connectTimeout: 5_000, protocolVersion: PROTOCOL, ...options });
}

/** Resolves with the first status for which check() holds (now or on a later change). */
export function untilStatus(
  driver: { status(): DriverStatus; onStateChange(listener: (s: DriverStatus) => void): () => void },
  check: (status: DriverStatus) => boolean,
): Promise<DriverStatus> {
  const now = driver.status();
  if (check(now)) return Promise.resolve(now);
  return new Promise((resolve) => {
    const off = driver.onStateChange((status) => {
      if (!check(status)) return;
      off();
      resolve(status);
    });
  });
}

/** The next message an mqtt.js client receives. */
export function nextMessage(client: MqttClient): Promise<[string, Buffer]> {
  return new Promise((resolve) => client.once('message', (topic, payload) => resolve([topic, payload])));
}

/** Resolves when an mqtt.js client's connection closes. */
export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.once('close', () => resolve()));
}
