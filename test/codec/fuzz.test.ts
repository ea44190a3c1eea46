import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Codec } from '../../drivers/codec/codec.js';
import { MAX_ABS_ACCEL_MS2, MAX_ABS_GYRO_RAD_S, MAX_ABS_MAG_UT, MAX_TEMP_C, MIN_TEMP_C } from '../../drivers/codec/sample.js';
import type { DecodeResult, RejectReason } from '../../drivers/codec/types.js';
import { isDeviceId, type Reading, type Transport } from '../../drivers/reading.js';
import type { FakeClock } from '../helpers/fake-clock.js';
import {
  buildBleFrame, buildCompact, buildCsvLines, buildSeed, int, mutateBytes, mutateJsonValue, pickOne, seededRandom, spliceOverflow, type Built, type Random,
} from './fuzz-gen.js';
import { makeCodec } from './support.js';

const CASES_PER_FORMAT = 10_000;
const REASONS: ReadonlySet<RejectReason> = new Set<RejectReason>([
  'parse', 'too_large', 'shape', 'device_id', 'device_mismatch', 'not_finite', 'accel_range', 'gyro_range', 'mag_range', 'temp_range', 'seq', 'timestamp', 'version',
]);

/**
 * Runs payloads through one codec and checks what must hold whatever the payload was: nothing throws, the
 * result adds up with the codec's own counters, and every reading that comes out is valid, on time, and
 * never earlier than its device's previous one.
 */
class Harness {
  readonly codec: Codec;
  readonly clock: FakeClock;
  private readonly lastTs = new Map<string, number>();
  cases = 0;
  private nextDevice = 0;

  constructor() {
    // Large enough that no device is evicted mid-run (eviction legitimately restarts its clock mapping).
    const { codec, clock } = makeCodec({ maxDevices: 1_000_000, silent: true });
    this.codec = codec;
    this.clock = clock;
  }

  freshDevice(prefix: string): string {
    return `${prefix}-${this.nextDevice++}`;
  }

  run(transport: Transport, deviceId: string | undefined, decode: (codec: Codec, ctx: { transport: Transport; receivedAt: number; deviceId?: string }) => DecodeResult): DecodeResult {
    this.cases++;
    this.clock.advance(1 + (this.cases % 17));
    const receivedAt = this.clock.now();
    const ctx = deviceId === undefined ? { transport, receivedAt } : { transport, receivedAt, deviceId };
    const before = this.codec.transportTotals()[transport];
    const result = decode(this.codec, ctx);
    const after = this.codec.transportTotals()[transport];
    assert.equal(after.accepted - before.accepted, result.readings.length);
    assert.equal(after.rejected - before.rejected, result.rejected);
    assert.equal(after.duplicates - before.duplicates, result.duplicates);
    assert.equal(after.gaps - before.gaps, result.gaps);
    if (result.rejected > 0) assert.ok(result.firstError && REASONS.has(result.firstError.reason), JSON.stringify(result.firstError));
    for (const r of result.readings) this.checkReading(r, receivedAt, deviceId);
    return result;
  }

  private checkReading(r: Reading, receivedAt: number, vouched: string | undefined): void {
    assert.ok(isDeviceId(r.deviceId));
    if (vouched !== undefined) assert.equal(r.deviceId, vouched);
    assert.ok(Number.isInteger(r.ts) && r.ts <= receivedAt, `ts ${r.ts}`);
    assert.ok(r.ts >= (this.lastTs.get(r.deviceId) ?? -Infinity), 'ts ran backwards');
    this.lastTs.set(r.deviceId, r.ts);
    assert.ok(r.accel.length === 3 && r.accel.every((x) => Number.isFinite(x) && Math.abs(x) <= MAX_ABS_ACCEL_MS2));
    assert.ok(r.gyro.length === 3 && r.gyro.every((x) => Number.isFinite(x) && Math.abs(x) <= MAX_ABS_GYRO_RAD_S));
    if (r.mag) assert.ok(r.mag.length === 3 && r.mag.every((x) => Number.isFinite(x) && Math.abs(x) <= MAX_ABS_MAG_UT));
    if (r.temp !== undefined) assert.ok(r.temp >= MIN_TEMP_C && r.temp <= MAX_TEMP_C);
    if (r.seq !== undefined) assert.ok(Number.isInteger(r.seq) && r.seq >= 0 && r.seq <= 0xffffffff);
  }
}

/** For a built payload: every good sample kept, with its values, and every bad one rejected. */
function assertBuilt(results: DecodeResult[], built: Built<unknown>): void {
  const readings = results.flatMap((r) => r.readings);
  const rejected = results.reduce((sum, r) => sum + r.rejected, 0);
  const duplicates = results.reduce((sum, r) => sum + r.duplicates, 0);
  assert.equal(readings.length + rejected + duplicates, built.n);
  assert.deepEqual([readings.length, rejected, duplicates], [built.n - built.bad, built.bad, 0]);
  assert.deepEqual(readings.map((r) => [...r.accel, ...r.gyro, ...(r.mag ?? [])]), built.expected);
}

// Built once: the oversized payloads are the same every time, only whether they come matters.
const TOO_MANY_SAMPLES = `[${Array(2001).fill('{"timestamp":1}').join(',')}]`;
const TOO_MANY_IN_BATCH = `{"d":"A","t0":1,"dt":1,"s":[${Array(2001).fill('[0,0,1,0,0,0]').join(',')}]}`;
const TOO_MANY_BYTES = Buffer.alloc(300 * 1024, 0x20);
const DEEPLY_NESTED = `${'['.repeat(5_000)}${']'.repeat(5_000)}`;

function mutatedJson(random: Random, json: string): string | Buffer {
  const roll = random();
  if (roll < 0.45) return spliceOverflow(JSON.stringify(mutateJsonValue(random, JSON.parse(json))));
  if (roll < 0.9) return Buffer.from(mutateBytes(random, Buffer.from(json)));
  if (roll < 0.95) return pickOne(random, [TOO_MANY_SAMPLES, TOO_MANY_IN_BATCH, TOO_MANY_BYTES, DEEPLY_NESTED]);
  return pickOne(random, ['', 'null', '0', '"s"', '[]', '{}', '{"hello":null}', '{"s":{}}', '{"d":"A","s":[[]]}', '\u0000']);
}

describe('fuzz: nothing a device sends breaks the codec', () => {
  it('format (a) seed JSON', () => {
    const random = seededRandom(0xa11ce);
    const h = new Harness();
    for (let i = 0; i < CASES_PER_FORMAT; i++) {
      const deviceId = h.freshDevice('seed');
      const vouched = random() < 0.5;
      const built = buildSeed(random, deviceId, h.clock.now() - 500, vouched);
      const transport: Transport = vouched ? 'mqtt' : 'http';
      const payload = i % 2 === 0 ? built.payload : mutatedJson(random, built.payload);
      const result = h.run(transport, vouched ? deviceId : undefined, (codec, ctx) => codec.decodeJson(payload, ctx));
      if (i % 2 === 0) assertBuilt([result], built);
    }
  });

  it('format (b) compact batches', () => {
    const random = seededRandom(0xb0b);
    const h = new Harness();
    for (let i = 0; i < CASES_PER_FORMAT; i++) {
      const deviceId = h.freshDevice('batch');
      const built = buildCompact(random, deviceId, h.clock.now() - 1000);
      const vouched = random() < 0.7;
      const payload = i % 2 === 0 ? built.payload : mutatedJson(random, built.payload);
      const result = h.run(vouched ? 'mqtt' : 'http', vouched ? deviceId : undefined, (codec, ctx) => codec.decodeJson(payload, ctx));
      if (i % 2 === 0) assertBuilt([result], built);
    }
  });

  it('format (c) CSV lines', () => {
    const random = seededRandom(0xc5c);
    const h = new Harness();
    for (let i = 0; i < CASES_PER_FORMAT; i++) {
      const deviceId = h.freshDevice('serial');
      const built = buildCsvLines(random, int(random, 0, 2 ** 32 - 100_000));
      const lines = i % 2 === 0 ? built.payload : built.payload.map((line) => mutatedLine(random, line));
      const results = lines.map((line) => h.run('serial', deviceId, (codec, ctx) => codec.decodeLine(line, ctx)));
      if (i % 2 === 0) assertBuilt(results, built);
    }
  });

  it('format (d) BLE frames', () => {
    const random = seededRandom(0xd00d);
    const h = new Harness();
    for (let i = 0; i < CASES_PER_FORMAT; i++) {
      const deviceId = h.freshDevice('ble');
      const built = buildBleFrame(random, int(random, 0, 0xffff), int(random, 0, 2 ** 32 - 1));
      const frame = i % 2 === 0 ? built.payload : mutateBytes(random, built.payload);
      const result = h.run('ble', deviceId, (codec, ctx) => codec.decodeBle(frame, ctx));
      if (i % 2 === 0) assertBuilt([result], built);
    }
  });
});

function mutatedLine(random: Random, line: string): string {
  const roll = random();
  if (roll < 0.5) return Buffer.from(mutateBytes(random, Buffer.from(line, 'latin1'))).toString('latin1');
  if (roll < 0.7) {
    const fields = line.split(',');
    fields[int(random, 0, fields.length - 1)] = pickOne(random, ['NaN', 'Infinity', '-1e999', '1e308', '', 'null', '"1"', '4294967296', '-0']);
    return fields.join(',');
  }
  if (roll < 0.8) return line.repeat(int(random, 2, 20));
  if (roll < 0.9) return `{${line}`;
  return `${line}\r\n`;
}
