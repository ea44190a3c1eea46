import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SEQ_WINDOW_SAMPLES } from '../../drivers/codec/codec.js';
import { encodeBleFrame, encodeCompactBatch, encodeSeedJson } from '../../drivers/codec/encode.js';
import type { DecodeResult } from '../../drivers/codec/types.js';
import { makeCodec } from './support.js';

const STILL = [0, 0, 9.8, 0, 0, 0];
const PERIOD_MS = 10;
/** Arrival delay of an on-time payload after its last sample. */
const DELAY_MS = 5;

/**
 * Device L samples every PERIOD_MS of hub time with a millis clock (bootMs at seq 0) and sends format (b)
 * batches over MQTT. A batch arrives DELAY_MS after its last sample unless the hub's clock is already
 * later (a late batch). The offset settles at the first batch, so a sample's expected ts is
 * takenAt(seq) + DELAY_MS, late or not.
 */
function device(bootMs = 100_000) {
  const { codec, clock, ctx } = makeCodec();
  const start = clock.now();
  const takenAt = (seq: number) => start + PERIOD_MS * seq;
  const payload = (seq: number, n: number, t0 = bootMs + PERIOD_MS * seq, samples = Array(n).fill(STILL)) =>
    encodeCompactBatch({ deviceId: 'L', t0, dtMs: PERIOD_MS, seq, samples });
  const decode = (json: string, lastSeq: number) => {
    const due = takenAt(lastSeq) + DELAY_MS;
    if (due > clock.now()) clock.advance(due - clock.now());
    return codec.decodeJson(json, ctx('mqtt', 'L'));
  };
  const send = (seq: number, n: number) => decode(payload(seq, n), seq + n - 1);
  const expectedTs = (seq: number, n: number) => Array.from({ length: n }, (_, i) => takenAt(seq + i) + DELAY_MS);
  return { codec, clock, ctx, send, decode, payload, takenAt, expectedTs };
}

/** [readings, duplicates, gaps] */
function pick(r: DecodeResult): [number, number, number] {
  return [r.readings.length, r.duplicates, r.gaps];
}

const seqsOf = (r: DecodeResult) => r.readings.map((x) => x.seq);

describe('late samples', () => {
  it('keeps a skipped seq that arrives after newer ones, at its true time, and uncounts its gap', () => {
    const { codec, send, expectedTs } = device();
    send(0, 10);
    assert.deepEqual(pick(send(20, 10)), [10, 0, 10], '10..19 skipped');
    const late = send(10, 10);
    assert.deepEqual(pick(late), [10, 0, -10]);
    assert.deepEqual(seqsOf(late), Array.from({ length: 10 }, (_, i) => 10 + i));
    assert.deepEqual(late.readings.map((r) => r.ts), expectedTs(10, 10), 'its own time, before the newest sample');
    assert.deepEqual(codec.deviceCounters('L'), { ...codec.deviceCounters('L')!, accepted: 30, duplicates: 0, gaps: 0 });
    assert.deepEqual(codec.transportTotals().mqtt, { accepted: 30, rejected: 0, duplicates: 0, gaps: 0 });
  });

  it('drops a late sample that comes a second time as a duplicate', () => {
    const { codec, send } = device();
    send(0, 10);
    send(20, 10);
    send(10, 5);
    assert.deepEqual(pick(send(10, 10)), [5, 5, -5], 'only 15..19 are still missing');
    assert.deepEqual(pick(send(10, 10)), [0, 10, 0]);
    assert.deepEqual(pick(send(20, 10)), [0, 10, 0], 'the newest seqs are still seen');
    assert.deepEqual(pick(send(0, 10)), [0, 10, 0], 'and so are the first');
    assert.equal(codec.deviceCounters('L')?.gaps, 0);
  });

  it(`remembers missing seqs only within ${SEQ_WINDOW_SAMPLES} of the newest`, () => {
    const { codec, send, decode, payload } = device();
    send(0, 1);
    assert.deepEqual(pick(send(5000, 1)), [1, 0, 4999]);
    // Device times just before the newest one: a duplicate this far back in time would read as a reboot.
    const behind = (seq: number) => decode(payload(seq, 1, 100_000 + PERIOD_MS * 5000 - 100), 5000);
    assert.deepEqual(pick(behind(500)), [0, 1, 0], '4500 behind: beyond the window, a duplicate');
    assert.deepEqual(pick(behind(5000 - SEQ_WINDOW_SAMPLES)), [0, 1, 0], 'exactly the window behind');
    assert.deepEqual(pick(behind(5001 - SEQ_WINDOW_SAMPLES)), [1, 0, -1], 'the oldest seq in the window');
    assert.deepEqual(pick(behind(4999)), [1, 0, -1], 'the newest missing seq');
    assert.equal(codec.deviceCounters('L')?.gaps, 4997);
  });

  it('leaves the clock alone: no reboot from a device time far behind, later samples map as without it', () => {
    const late = device();
    const twin = device();
    for (const d of [late, twin]) {
      d.send(0, 10);
      d.send(1000, 10);
    }
    // 9 s of device time behind the newest sample: more than a reboot's backstep (5 s).
    const r = late.send(100, 10);
    assert.deepEqual(pick(r), [10, 0, -10]);
    assert.deepEqual(r.readings.map((x) => x.ts), late.expectedTs(100, 10));
    assert.deepEqual(pick(late.send(1000, 10)), [0, 10, 0], 'the newest seq did not move back');
    for (const d of [late, twin]) d.clock.advance(20_000);
    const after = late.send(1010, 10);
    assert.deepEqual(pick(after), [10, 0, 0]);
    assert.deepEqual(after.readings, twin.send(1010, 10).readings);
    assert.deepEqual(after.readings.map((x) => x.ts), late.expectedTs(1010, 10));
  });

  it('keeps a late sample within one payload, in arrival order', () => {
    const { codec, clock, ctx } = makeCodec();
    const t = clock.now() - 100;
    const sample = (seq: number) => ({ deviceId: 'A', timestamp: t + 10 * seq, seq, accel: [0, 0, 9.8] as [number, number, number], gyro: [0, 0, 0] as [number, number, number] });
    const r = codec.decodeJson(encodeSeedJson([sample(0), sample(2), sample(1)]), ctx('http'));
    assert.deepEqual(pick(r), [3, 0, 0], 'seq 1 counted as lost, then found');
    assert.deepEqual(seqsOf(r), [0, 2, 1]);
    assert.deepEqual(r.readings.map((x) => x.ts), [t, t + 20, t + 10], 'a wall clock in sync maps as sent');
  });

  it('follows BLE seqs across the u16 wrap', () => {
    const { codec, ctx } = makeCodec();
    const frame = (seq: number, t0: number) => codec.decodeBle(encodeBleFrame({ seq, t0, dtUs: 10_000, samples: Array(10).fill(STILL) }), ctx('ble', 'B'));
    frame(65530, 50_000);
    assert.deepEqual(pick(frame(14, 50_200)), [10, 0, 10]);
    const late = frame(4, 50_100);
    assert.deepEqual([pick(late), seqsOf(late)], [[10, 0, -10], Array.from({ length: 10 }, (_, i) => 65540 + i)]);
  });

  it('an older seq with a later device time is still a counter restart, even where a seq is missing', () => {
    const { codec, send, decode, payload } = device();
    send(0, 10);
    send(20, 10);
    // Seq 15 again, but taken after seq 29: the counter restarted.
    const restart = decode(payload(15, 1, 100_000 + PERIOD_MS * 30), 30);
    assert.deepEqual(pick(restart), [1, 0, 0]);
    assert.deepEqual(pick(send(10, 1)), [0, 1, 0], 'the old stream\'s missing seqs are forgotten');
    assert.equal(codec.deviceCounters('L')?.gaps, 10);
  });

  it('a rebooted device whose new seqs hit missing ones of its old boot is a reboot, not late', () => {
    const { codec, clock, decode, payload, send } = device(20 * 60_000);
    send(0, 10);
    send(20, 10);
    // The new boot's millis are 20 minutes behind: beyond maxPastMs, so not a late sample.
    const rebooted = decode(payload(10, 10, 500), 40);
    assert.deepEqual(pick(rebooted), [10, 0, 0]);
    assert.equal(rebooted.readings.at(-1)?.ts, clock.now(), 'mapped afresh: its last sample taken as it arrived');
    assert.equal(codec.deviceCounters('L')?.gaps, 10, 'the old boot\'s lost samples stay lost');
  });

  it('a rejected late sample arrived: it is no longer a gap', () => {
    const { codec, decode, payload, send } = device();
    send(0, 10);
    send(20, 10);
    const r = decode(payload(10, 2, undefined, [[0, 0, 999, 0, 0, 0], STILL]), 30);
    assert.deepEqual([pick(r), r.rejected], [[1, 0, -2], 1]);
    assert.equal(codec.deviceCounters('L')?.gaps, 8);
  });

  it('seq-less samples keep the device-time rule', () => {
    const { codec, ctx } = makeCodec();
    const c = ctx('serial', 'S');
    codec.decodeLine('1,5000,0,0,1,0,0,0', c);
    codec.decodeLine('1,5020,0,0,2,0,0,0', c);
    assert.deepEqual(pick(codec.decodeLine('1,5010,0,0,3,0,0,0', c)), [0, 1, 0]);
  });
});

describe('late samples after a rewind', () => {
  it('a refused payload re-sent after newer ones is late, with the timestamps it had', () => {
    const { codec, send } = device();
    send(0, 10);
    const refused = send(10, 10);
    codec.rewind(refused.readings, 'mqtt');
    assert.deepEqual(pick(send(20, 10)), [10, 0, 10], 'the new payload overtakes the redelivery');
    const again = send(10, 10);
    assert.deepEqual(pick(again), [10, 0, -10]);
    assert.deepEqual(again.readings, refused.readings);
    assert.deepEqual(codec.deviceCounters('L'), { ...codec.deviceCounters('L')!, accepted: 30, duplicates: 0, gaps: 0 });
    assert.deepEqual(codec.transportTotals().mqtt, { accepted: 30, rejected: 0, duplicates: 0, gaps: 0 });
  });

  it('rolls the newest seq back before the earliest refused one, in whatever order the refusals come', () => {
    for (const order of ['oldest first', 'newest first']) {
      const { codec, send } = device();
      send(0, 10);
      const a = send(10, 10);
      const b = send(20, 10);
      for (const r of order === 'oldest first' ? [a, b] : [b, a]) codec.rewind(r.readings, 'mqtt');
      assert.deepEqual(send(10, 10).readings, a.readings, order);
      assert.deepEqual(send(20, 10).readings, b.readings, order);
      assert.deepEqual(pick(send(20, 10)), [0, 10, 0], order);
      assert.equal(codec.deviceCounters('L')?.accepted, 30, order);
    }
  });

  it('stores again what was stored after the refused payload (no loss), and keeps gaps right', () => {
    const { codec, send } = device();
    send(0, 10);
    const refused = send(10, 10);
    assert.deepEqual(pick(send(25, 5)), [5, 0, 5], 'stored, 20..24 lost on the way');
    codec.rewind(refused.readings, 'mqtt');
    assert.equal(codec.deviceCounters('L')?.gaps, 0, 'the lost ones are counted again when re-sent');
    assert.deepEqual(pick(send(10, 10)), [10, 0, 0]);
    assert.deepEqual(pick(send(25, 5)), [5, 0, 5], 're-sent: stored twice rather than lost');
    assert.deepEqual(pick(send(20, 5)), [5, 0, -5], 'and the lost ones still come late');
    assert.equal(codec.deviceCounters('L')?.gaps, 0);
  });
});
