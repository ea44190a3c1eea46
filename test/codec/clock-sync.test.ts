import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeBleFrame, encodeCompactBatch, encodeCsvLine } from '../../drivers/codec/encode.js';
import type { Reading } from '../../drivers/reading.js';
import { makeCodec } from './support.js';

/** Values that differ from line to line, so that no line is a stale re-send. */
const values = (i: number) => [i % 2 === 0 ? 0.1 : 0.2, 0, 9.8, 0, 0, 0];

interface Sent {
  /** When the sample was really taken, on the hub's clock. */
  trueTs: number;
  receivedAt: number;
  readings: Reading[];
}

/**
 * A serial device sampling every periodMs of real time, its millis() running at `rate` real speed, each
 * line arriving latencyMs(i) after it was taken. The FakeClock moves to each arrival.
 */
function streamCsv(opts: { count: number; periodMs: number; rate?: number; bootMillis?: number; latencyMs?: (i: number) => number }) {
  const { codec, clock, ctx } = makeCodec();
  const rate = opts.rate ?? 1;
  const start = clock.now();
  const sent: Sent[] = [];
  for (let i = 0; i < opts.count; i++) {
    const realMs = i * opts.periodMs;
    const trueTs = start + realMs;
    // A serial line delivers in order: a line cannot overtake a slow one before it.
    const receivedAt = Math.max(clock.now(), trueTs + (opts.latencyMs?.(i) ?? 0));
    if (receivedAt > clock.now()) clock.advance(receivedAt - clock.now());
    const millis = Math.round((opts.bootMillis ?? 10_000) + realMs * rate);
    const r = codec.decodeLine(encodeCsvLine(1, millis, values(i)), ctx('serial', 'S', receivedAt));
    sent.push({ trueTs, receivedAt, readings: r.readings });
  }
  return { codec, sent };
}

function assertMonotonicAndNotFuture(sent: Sent[]): void {
  let last = Number.NEGATIVE_INFINITY;
  for (const s of sent) {
    for (const r of s.readings) {
      assert.ok(r.ts >= last, `ts ${r.ts} runs back from ${last}`);
      assert.ok(r.ts <= s.receivedAt, `ts ${r.ts} is after its arrival ${s.receivedAt}`);
      last = r.ts;
    }
  }
}

function maxErrorMs(sent: Sent[], from = 0): number {
  return Math.max(...sent.slice(from).map((s) => Math.abs(s.readings[0].ts - s.trueTs)));
}

describe('clock mapping', () => {
  it('maps a millis-since-boot device to arrival time, and settles on the smallest transit delay', () => {
    // The first line is slow (200 ms, holding up the next ones); the others take 5 to 24 ms.
    const { sent } = streamCsv({ count: 500, periodMs: 10, latencyMs: (i) => (i === 0 ? 200 : 5 + ((i * 7) % 20)) });
    assert.equal(sent[0].readings[0].ts, sent[0].receivedAt);
    assert.ok(sent.every((s) => s.readings.length === 1));
    assertMonotonicAndNotFuture(sent);
    // Once the queue behind the slow first line has drained, every ts sits at the smallest delay seen.
    const smallestDelayMs = Math.min(...sent.map((s) => s.receivedAt - s.trueTs));
    assert.ok(smallestDelayMs >= 5 && smallestDelayMs < 20);
    assert.equal(maxErrorMs(sent, 50), smallestDelayMs);
  });

  it('keeps the time of an NTP-synced device as it is', () => {
    const { codec, clock, ctx } = makeCodec();
    let ts: number[] = [];
    const t0 = clock.now();
    for (let b = 0; b < 1200; b++) {
      const batchT0 = t0 + b * 100;
      clock.advance(batchT0 + 90 + 30 - clock.now());
      const r = codec.decodeJson(encodeCompactBatch({ deviceId: 'N', t0: batchT0, dtMs: 10, samples: Array.from({ length: 10 }, (_, i) => values(i)) }), ctx('mqtt', 'N'));
      ts = ts.concat(r.readings.map((x) => x.ts));
    }
    assert.equal(ts.length, 12_000);
    ts.forEach((x, i) => assert.equal(x, t0 + i * 10));
  });

  it('never maps an NTP device that runs ahead into the future', () => {
    const { codec, clock, ctx } = makeCodec();
    const ahead = 1500;
    for (let b = 0; b < 100; b++) {
      clock.advance(100);
      const r = codec.decodeJson(encodeCompactBatch({ deviceId: 'N', t0: clock.now() + ahead - 90, dtMs: 10, samples: Array.from({ length: 10 }, (_, i) => values(i)) }), ctx('mqtt', 'N'));
      assert.equal(r.readings[9].ts, clock.now());
    }
  });

  it('starts afresh after a reboot, with no duplicates and no step back', () => {
    const { codec, clock, ctx } = makeCodec();
    const out: Sent[] = [];
    const line = (millis: number, i: number) => {
      clock.advance(10);
      out.push({ trueTs: clock.now(), receivedAt: clock.now(), readings: codec.decodeLine(encodeCsvLine(1, millis, values(i)), ctx('serial', 'S')).readings });
    };
    for (let i = 0; i < 1000; i++) line(600_000 + i * 10, i);
    clock.advance(3000);
    for (let i = 0; i < 1000; i++) line(300 + i * 10, i);
    assert.ok(out.every((s) => s.readings.length === 1), 'every line accepted');
    assertMonotonicAndNotFuture(out);
    assert.equal(maxErrorMs(out), 0);
    assert.deepEqual(codec.deviceCounters('S')?.duplicates, 0);
  });

  it('follows a slow device clock (1000 ppm) within the tolerance', () => {
    const { sent } = streamCsv({ count: 30_000, periodMs: 10, rate: 0.999, latencyMs: () => 10 });
    assertMonotonicAndNotFuture(sent);
    // Unrefined, the error would reach 300 ms; the window (30 s = 30 ms of drift) plus the 100 ms tolerance
    // plus the transit delay bound it.
    assert.ok(maxErrorMs(sent) <= 150, `error ${maxErrorMs(sent)} ms`);
    const last = sent[sent.length - 1];
    assert.ok(Math.abs(last.readings[0].ts - last.trueTs) < 150);
  });

  it('follows a fast device clock (1000 ppm) without landing in the future', () => {
    const { sent } = streamCsv({ count: 30_000, periodMs: 10, rate: 1.001, latencyMs: () => 10 });
    assertMonotonicAndNotFuture(sent);
    assert.ok(maxErrorMs(sent) <= 11, `error ${maxErrorMs(sent)} ms`);
  });

  it('never runs backwards under jitter, reboots and clock steps', () => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const { codec, clock, ctx } = makeCodec();
    const out: Sent[] = [];
    let millis = 50_000;
    for (let i = 0; i < 20_000; i++) {
      clock.advance(Math.floor(random() * 30));
      const roll = random();
      if (roll < 0.001) millis = Math.floor(random() * 1000);
      else if (roll < 0.002) millis += 20 * 60_000;
      else if (roll < 0.003) millis -= 3000;
      else millis += Math.floor(random() * 25);
      const r = codec.decodeLine(encodeCsvLine(1, millis, values(i)), ctx('serial', 'S'));
      out.push({ trueTs: 0, receivedAt: clock.now(), readings: r.readings });
    }
    assertMonotonicAndNotFuture(out);
    assert.ok(out.filter((s) => s.readings.length === 1).length > 10_000);
  });

  it('unwraps u32 millis instead of taking the wrap for a reboot', () => {
    const { codec, clock, ctx } = makeCodec();
    const all: Reading[] = [];
    const frameAt = (f: number) => encodeBleFrame({ seq: f * 10, t0: (2 ** 32 - 250 + f * 100) % 2 ** 32, dtUs: 10_000, samples: Array.from({ length: 10 }, (_, i) => values(i)) });
    for (let f = 0; f < 50; f++) {
      clock.advance(100);
      // The first frame after the wrap is held up 40 ms: a re-estimate there would shift every later ts.
      const late = f === 3 ? 40 : 0;
      const r = codec.decodeBle(frameAt(f), ctx('ble', 'W', clock.now() + late));
      all.push(...r.readings);
      if (f === 5) assert.deepEqual(codec.decodeBle(frameAt(2), ctx('ble', 'W')).duplicates, 10, 'a frame from before the wrap, again');
    }
    assert.equal(all.length, 500);
    all.forEach((r, i) => assert.equal(r.ts, all[0].ts + i * 10));
    assert.deepEqual([codec.deviceCounters('W')?.duplicates, codec.deviceCounters('W')?.gaps], [10, 0]);
  });

  it('re-estimates when a device clock falls more than 10 minutes behind', () => {
    const { codec, clock, ctx } = makeCodec();
    const first = codec.decodeLine(encodeCsvLine(1, 1000, values(0)), ctx('serial', 'S'));
    assert.equal(first.readings[0].ts, clock.now());
    clock.advance(20 * 60_000);
    const later = codec.decodeLine(encodeCsvLine(1, 2000, values(1)), ctx('serial', 'S'));
    assert.equal(later.readings[0].ts, clock.now());
  });
});
