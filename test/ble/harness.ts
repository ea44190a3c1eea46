import { pino } from 'pino';
import { BleDriver, type BleDriverOptions } from '../../drivers/ble/ble-driver.js';
import type { BleDriverEvents } from '../../drivers/ble/ble-events.js';
import { Codec } from '../../drivers/codec/codec.js';
import { encodeBleFrame } from '../../drivers/codec/encode.js';
import type { DeviceInfo, ReadingSink } from '../../drivers/driver.js';
import type { Reading, Transport } from '../../drivers/reading.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeNoble } from './fake-noble.js';

/** Keeps what it is given; `hold()` makes ingest wait until `release()`, `failNext` makes it reject. */
export class MemorySink implements ReadingSink {
  readonly readings: Reading[] = [];
  readonly transports = new Set<Transport>();
  calls = 0;
  failNext = 0;
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;

  async ingest(readings: Reading[], transport: Transport): Promise<void> {
    this.calls += 1;
    this.transports.add(transport);
    if (this.gate) await this.gate;
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('disk full (fake)');
    }
    this.readings.push(...readings);
  }

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.gate = undefined;
    this.open?.();
  }
}

export type Harness = ReturnType<typeof harness>;

export function harness(options: Partial<BleDriverOptions> = {}, noble = new FakeNoble()) {
  const clock = new FakeClock();
  const log = pino({ level: 'silent' });
  const codec = new Codec({ clock, log });
  const sink = new MemorySink();
  const infos: Array<{ deviceId: string; transport: Transport; info: DeviceInfo }> = [];
  const driver = new BleDriver({
    codec,
    sink,
    log,
    clock,
    onDeviceInfo: (deviceId, transport, info) => infos.push({ deviceId, transport, info }),
    loadNoble: async () => noble,
    random: () => 0.5,
    ...options,
  });
  return {
    clock,
    codec,
    sink,
    noble,
    driver,
    infos,
    async close(): Promise<void> {
      await driver.stop();
      codec.close();
    },
  };
}

/** The next event of that kind (matching `match`), registered now, before the action that causes it. */
export function nextEvent<K extends keyof BleDriverEvents>(
  driver: BleDriver,
  event: K,
  match: (payload: BleDriverEvents[K]) => boolean = () => true,
): Promise<BleDriverEvents[K]> {
  return new Promise((resolve) => {
    const off = driver.on(event, (payload) => {
      if (!match(payload)) return;
      off();
      resolve(payload);
    });
  });
}

/** Lets pending promise callbacks and ticks run (the fakes answer asynchronously, as noble does). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export const DT_US = 10_000;

/** Sample i of a test stream: distinct, in range, easy to check. */
export function sampleValues(i: number): number[] {
  return [0.1 * (i % 50), -0.2, 9.81, 0.01 * (i % 30), 0, -0.05];
}

/** A valid frame of `count` samples starting at `seq`, device time following seq at 100 Hz. */
export function frame(seq: number, count: number): Uint8Array {
  const samples = Array.from({ length: count }, (_, k) => sampleValues(seq + k));
  return encodeBleFrame({ seq, t0: 1_000 + seq * (DT_US / 1000), dtUs: DT_US, samples });
}
