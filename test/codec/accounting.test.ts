import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeBleFrame, encodeCompactBatch, encodeSeedJson } from '../../drivers/codec/encode.js';
import { makeCodec } from './support.js';

const STILL = [0, 0, 9.8, 0, 0, 0];

describe('duplicates and gaps', () => {
  it('drops repeated and older seqs, counts skipped ones as gaps', () => {
    const { codec, clock, ctx } = makeCodec();
    const t0 = clock.now() - 1000;
    const send = (seq: number, n: number, tOffset: number) =>
      codec.decodeJson(encodeCompactBatch({ deviceId: 'A', t0: t0 + tOffset, dtMs: 10, seq, samples: Array(n).fill(STILL) }), ctx('mqtt', 'A'));
    assert.deepEqual(pick(send(100, 5, 0)), [5, 0, 0]);
    assert.deepEqual(pick(send(100, 5, 0)), [0, 5, 0], 'the same batch again (QoS 1 redelivery)');
    assert.deepEqual(pick(send(103, 4, 30)), [2, 2, 0], 'overlapping batch');
    assert.deepEqual(pick(send(110, 2, 100)), [2, 0, 3], 'three samples lost');
    assert.deepEqual(codec.deviceCounters('A'), { accepted: 9, duplicates: 7, gaps: 3, rejected: 0, rejectedByReason: {}, transport: 'mqtt', lastSeenAt: clock.now() });
  });

  it('is wrap-safe at 2^32 for JSON seqs and at 2^16 for BLE seqs', () => {
    const { codec, clock, ctx } = makeCodec();
    const t0 = clock.now() - 1000;
    const json = (seq: number, t: number) => codec.decodeJson(encodeCompactBatch({ deviceId: 'J', t0: t0 + t, dtMs: 10, seq, samples: [STILL, STILL] }), ctx('mqtt', 'J'));
    json(2 ** 32 - 2, 0);
    const wrapped = json(2, 30);
    assert.deepEqual([pick(wrapped), wrapped.readings.map((r) => r.seq)], [[2, 0, 2], [2, 3]], 'seqs 0 and 1 lost across the wrap');
    assert.deepEqual(pick(json(2, 30)), [0, 2, 0], 'a repeat after the wrap');
    const straddling = json(2 ** 32 - 1, 10);
    assert.deepEqual([pick(straddling), straddling.readings.map((r) => r.seq)], [[1, 1, -1], [0]], 'a repeat from before the wrap, then 0 arriving late');

    const ble = (seq: number, t: number) => codec.decodeBle(encodeBleFrame({ seq, t0: 5000 + t, dtUs: 10_000, samples: [STILL, STILL] }), ctx('ble', 'B'));
    ble(65534, 0);
    const b = ble(0, 20);
    assert.deepEqual([pick(b), b.readings.map((r) => r.seq)], [[2, 0, 0], [65536, 65537]]);
    assert.deepEqual(pick(ble(65535, 0)), [0, 2, 0], 'a late frame from before the wrap');
    const gap = ble(10, 100);
    assert.deepEqual([pick(gap), gap.readings.map((r) => r.seq)], [[2, 0, 8], [65546, 65547]]);
  });

  it('takes an older seq with a later device time as a counter restart', () => {
    const { codec, clock, ctx } = makeCodec();
    const t = clock.now() - 5000;
    const send = (seq: number, at: number) =>
      codec.decodeJson(encodeSeedJson({ deviceId: 'N', timestamp: t + at, seq, accel: [0, 0, 9.8], gyro: [0, 0, 0] }), ctx('http'));
    assert.deepEqual(pick(send(5000, 0)), [1, 0, 0]);
    assert.deepEqual(pick(send(5000, 0)), [0, 1, 0]);
    assert.deepEqual(pick(send(0, 1000)), [1, 0, 0]);
    assert.deepEqual(pick(send(1, 1010)), [1, 0, 0]);
  });

  it('without seq, drops samples whose device time is not after the previous one', () => {
    const { codec, ctx } = makeCodec();
    const c = ctx('serial', 'S');
    const lines = ['1,5000,0,0,1,0,0,0', '1,5000,0,0,2,0,0,0', '1,4990,0,0,3,0,0,0', '1,5010,0,0,4,0,0,0'];
    assert.deepEqual(lines.map((l) => pick(codec.decodeLine(l, c))), [[1, 0, 0], [0, 1, 0], [0, 1, 0], [1, 0, 0]]);
  });

  it('does not count samples rejected for their values as gaps', () => {
    const { codec, clock, ctx } = makeCodec();
    const bad = [0, 0, 999, 0, 0, 0];
    const r = codec.decodeJson(encodeCompactBatch({ deviceId: 'A', t0: clock.now() - 50, dtMs: 10, seq: 0, samples: [STILL, bad, bad, STILL] }), ctx('mqtt', 'A'));
    assert.deepEqual([r.readings.length, r.rejected, r.gaps], [2, 2, 0]);
  });
});

describe('counters', () => {
  it('sums per transport and per device, and forgets a device', () => {
    const { codec, clock, ctx } = makeCodec();
    codec.decodeLine('1,100,0,0,1,0,0,0', ctx('serial', 'S'));
    codec.decodeLine('1,100,0,0,1,0,0,0', ctx('serial', 'S'));
    codec.decodeLine('garbage', ctx('serial', 'S'));
    codec.decodeJson('{', ctx('http'));
    codec.decodeJson(encodeCompactBatch({ deviceId: 'M', t0: clock.now(), dtMs: 1, seq: 0, samples: [STILL] }), ctx('mqtt', 'M'));
    codec.decodeJson(encodeCompactBatch({ deviceId: 'M', t0: clock.now() + 5, dtMs: 1, seq: 4, samples: [STILL] }), ctx('mqtt', 'M'));
    assert.deepEqual(codec.transportTotals(), {
      mqtt: { accepted: 2, rejected: 0, duplicates: 0, gaps: 3 },
      serial: { accepted: 1, rejected: 1, duplicates: 1, gaps: 0 },
      ble: { accepted: 0, rejected: 0, duplicates: 0, gaps: 0 },
      http: { accepted: 0, rejected: 1, duplicates: 0, gaps: 0 },
    });
    assert.deepEqual(Object.keys(codec.counters()).sort(), ['(unattributed)', 'M', 'S']);
    assert.deepEqual(codec.deviceCounters('S')?.rejectedByReason, { parse: 1 });
    const copy = codec.deviceCounters('S')!;
    copy.accepted = 99;
    assert.equal(codec.deviceCounters('S')?.accepted, 1, 'counters are copies');
    codec.forget('S');
    assert.equal(codec.deviceCounters('S'), undefined);
    assert.equal(codec.transportTotals().serial.accepted, 1, 'totals outlive the device');
  });

  it('keeps at most maxDevices, evicting the least recently seen', () => {
    const { codec, ctx } = makeCodec({ maxDevices: 3 });
    for (const id of ['A', 'B', 'C']) codec.decodeLine('1,100,0,0,1,0,0,0', ctx('serial', id));
    codec.decodeLine('1,200,0,0,2,0,0,0', ctx('serial', 'A'));
    codec.decodeLine('1,100,0,0,1,0,0,0', ctx('serial', 'D'));
    assert.deepEqual(Object.keys(codec.counters()).sort(), ['A', 'C', 'D']);
    for (let i = 0; i < 1000; i++) codec.decodeLine('1,100,0,0,1,0,0,0', ctx('serial', `flood-${i}`));
    assert.equal(Object.keys(codec.counters()).length, 3);
  });
});

describe('rejection log', () => {
  it('logs at once, then at most once a minute per device with the sum', () => {
    const { codec, clock, logs, ctx } = makeCodec();
    const bad = () => codec.decodeLine('1,100,0,0,999,0,0,0', ctx('serial', 'S'));
    bad();
    assert.equal(logs.length, 1);
    assert.deepEqual(pickLog(logs[0]), { deviceId: 'S', transport: 'serial', reason: 'accel_range', count: 1, msg: 'rejected samples' });
    assert.match(String(logs[0].example), /accel\.z 999/);
    for (let i = 0; i < 5; i++) bad();
    codec.decodeLine('junk', ctx('serial', 'S'));
    codec.decodeLine('junk', ctx('serial', 'other'));
    assert.equal(logs.length, 2, 'only the other device logs at once');
    clock.advance(59_999);
    assert.equal(logs.length, 2);
    clock.advance(1);
    assert.equal(logs.length, 3);
    assert.deepEqual(pickLog(logs[2]), { deviceId: 'S', transport: 'serial', reason: 'accel_range', count: 6, msg: 'rejected samples' });
    assert.deepEqual(logs[2].reasons, { accel_range: 5, parse: 1 });
    clock.advance(10 * 60_000);
    assert.equal(logs.length, 3, 'nothing more to say');
    bad();
    assert.equal(logs.length, 4, 'a quiet device logs at once again');
    codec.close();
  });

  it('stops its timer on close', () => {
    const { codec, clock, logs, ctx } = makeCodec();
    codec.decodeLine('junk', ctx('serial', 'S'));
    codec.decodeLine('junk', ctx('serial', 'S'));
    assert.equal(clock.timerCount, 1);
    codec.close();
    assert.equal(clock.timerCount, 0);
    clock.advance(120_000);
    assert.equal(logs.length, 1);
  });
});

function pick(r: { readings: unknown[]; duplicates: number; gaps: number }): [number, number, number] {
  return [r.readings.length, r.duplicates, r.gaps];
}

function pickLog(line: Record<string, unknown>) {
  const { deviceId, transport, reason, count, msg } = line;
  return { deviceId, transport, reason, count, msg };
}

describe('rewind', () => {
  it('lets a device re-send what the hub could not store, with the same timestamps', () => {
    const { codec, clock, ctx } = makeCodec();
    const base = clock.now() - 1000;
    const batch = (seq: number, t: number) => encodeCompactBatch({ deviceId: 'A', t0: base + t, dtMs: 10, seq, samples: [STILL, STILL, STILL] });
    const first = codec.decodeJson(batch(0, 0), ctx('mqtt', 'A'));
    const failed = codec.decodeJson(batch(3, 30), ctx('mqtt', 'A'));
    assert.equal(failed.readings.length, 3);
    codec.rewind(failed.readings, 'mqtt');
    clock.advance(500);
    const again = codec.decodeJson(batch(3, 30), ctx('mqtt', 'A'));
    assert.deepEqual(again.readings, failed.readings);
    assert.ok(again.readings[0].ts > first.readings[2].ts);
    assert.deepEqual(pick(codec.decodeJson(batch(3, 30), ctx('mqtt', 'A'))), [0, 3, 0], 'stored this time: a repeat is a duplicate again');
    assert.equal(codec.deviceCounters('A')?.accepted, 6);
    assert.equal(codec.transportTotals().mqtt.accepted, 6);
  });

  it('works for CSV lines, whose duplicates are judged by time and values', () => {
    const { codec, ctx } = makeCodec();
    const c = ctx('serial', 'S');
    codec.decodeLine('1,100,0,0,1,0,0,0', c);
    const failed = codec.decodeLine('1,110,0,0,2,0,0,0', c);
    codec.rewind(failed.readings, 'serial');
    assert.deepEqual(codec.decodeLine('1,110,0,0,2,0,0,0', c).readings, failed.readings);
  });
});
