import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import type { Clock } from '../../daemon/clock.js';
import { Codec } from '../../drivers/codec/codec.js';
import type { ReadingSink } from '../../drivers/driver.js';
import type { Reading, Transport } from '../../drivers/reading.js';
import type { PortEvent } from '../../drivers/serial/port-session.js';

/** The shared recordings: ../shared/data/barbell-imu beside the repo, or GYMHUB_SHARED_DATA (that folder or shared/). */
export function dataDir(): string {
  const env = process.env.GYMHUB_SHARED_DATA;
  if (env) return existsSync(join(env, 'squat')) ? env : join(env, 'data', 'barbell-imu');
  return fileURLToPath(new URL('../../../shared/data/barbell-imu/', import.meta.url));
}

/** A recording's lines exactly as the device sent them. */
export function recordingLines(relative: string): string[] {
  return readFileSync(join(dataDir(), relative), 'utf8').split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.length > 0);
}

export const SQUAT_FILE = 'squat/squat_adam_set1_reps10_1.csv';

export const silentLog: Logger = pino({ level: 'silent' });

export function makeCodec(clock: Clock): Codec {
  return new Codec({ clock, log: silentLog });
}

/** How many readings a fresh codec accepts for these lines from one device: what the sink must receive. */
export function expectedReadings(lines: readonly string[], deviceId: string, clock: Clock): Reading[] {
  const codec = makeCodec(clock);
  const out: Reading[] = [];
  for (const line of lines) {
    const result = codec.decodeLine(line, { transport: 'serial', receivedAt: clock.now(), deviceId });
    if (result.hello) deviceId = result.hello.deviceId;
    out.push(...result.readings);
  }
  codec.close();
  return out;
}

/**
 * A sink that records every batch. Readings count as stored when ingest resolves; `hold` keeps ingests
 * pending until released (a slow store), `fail` makes chosen calls reject (a full disk).
 */
export class RecordingSink implements ReadingSink {
  readonly batches: Reading[][] = [];
  readonly readings: Reading[] = [];
  calls = 0;
  hold = false;
  fail: (call: number) => boolean = () => false;
  private held: (() => void)[] = [];
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  ingest(readings: Reading[], transport: Transport): Promise<void> {
    if (transport !== 'serial') throw new Error(`unexpected transport ${transport}`);
    const call = ++this.calls;
    const settle = (): Promise<void> => {
      if (this.fail(call)) return Promise.reject(new Error('disk full'));
      this.batches.push(readings);
      for (const r of readings) this.readings.push(r);
      this.wake();
      return Promise.resolve();
    };
    if (!this.hold) return settle();
    return new Promise((resolve, reject) => this.held.push(() => settle().then(resolve, reject)));
  }

  /** Lets every held ingest complete, and stops holding. */
  release(): void {
    this.hold = false;
    const held = this.held;
    this.held = [];
    for (const run of held) run();
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** Resolves once the condition holds (checked after every stored batch). */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ check, resolve }));
  }

  untilCount(count: number): Promise<void> {
    return this.until(() => this.readings.length >= count);
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.check()) return true;
      w.resolve();
      return false;
    });
  }
}

/** Turns the driver's port events into awaitable ones. */
export class PortEvents {
  readonly seen: PortEvent[] = [];
  private waiters: { match: (e: PortEvent) => boolean; resolve: (e: PortEvent) => void }[] = [];

  readonly listener = (event: PortEvent): void => {
    this.seen.push(event);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(event)) return true;
      w.resolve(event);
      return false;
    });
  };

  /** The next event (from now on) with this state, optionally on this path. */
  next(state: PortEvent['state'], path?: string): Promise<PortEvent> {
    return new Promise((resolve) => this.waiters.push({ match: (e) => e.state === state && (!path || e.path === path), resolve }));
  }
}

/** Samples (accel, gyro, mag) without the hub timestamp, which depends on arrival time. */
export function valuesOf(readings: readonly Reading[]): string[] {
  return readings.map((r) => `${r.deviceId}|${r.accel.join(',')}|${r.gyro.join(',')}|${r.mag?.join(',') ?? ''}`);
}

/**
 * An in-memory stand-in for an open serial port, for the tests that need exact control over chunks and
 * pause/resume (the pty tests cover the real port). It behaves like serialport's stream where it matters:
 * 'data' chunks, pause()/resume(), 'close' with a disconnect error.
 */
export class FakeLink extends EventEmitter {
  isOpen = true;
  paused = false;
  pauses = 0;
  resumes = 0;
  readonly written: string[] = [];

  pause(): this {
    if (!this.paused) this.pauses++;
    this.paused = true;
    return this;
  }

  resume(): this {
    if (this.paused) this.resumes++;
    this.paused = false;
    return this;
  }

  write(data: string | Buffer, callback: (err: Error | null | undefined) => void): boolean {
    this.written.push(data.toString());
    queueMicrotask(() => callback(null));
    return true;
  }

  close(callback: (err: Error | null) => void): void {
    this.isOpen = false;
    queueMicrotask(() => {
      this.emit('close', null);
      callback(null);
    });
  }

  /** Bytes from the device. */
  send(text: string | Buffer): void {
    this.emit('data', typeof text === 'string' ? Buffer.from(text) : text);
  }

  /** The cable is pulled. */
  unplug(): void {
    this.isOpen = false;
    this.emit('close', new Error('port hung up'));
  }
}
