import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BLE_ACCEL_MS2_PER_LSB, BLE_GYRO_RAD_S_PER_LSB, BLE_MAG_UT_PER_LSB } from '../../drivers/codec/ble-frame.js';
import { CSV_BAD_NUMBER, CSV_TOO_MANY_FIELDS, parseCsvNumbers } from '../../drivers/codec/csv-numbers.js';
import { encodeBleFrame, encodeCompactBatch, encodeCsvLine, encodeSeedJson, type SeedSample } from '../../drivers/codec/encode.js';
import { parseRecordingCsv } from '../../drivers/codec/recording.js';
import { makeCodec } from './support.js';

describe('round trips through the codec', () => {
  it('format (b)', () => {
    const { codec, clock, ctx } = makeCodec();
    const samples = [[0.5, -1.25, 9.81, 0.01, -0.02, 0.03], [1, 2, 3, 4, 5, 6, 7, 8, 9]];
    const json = encodeCompactBatch({ deviceId: 'ESP32_001', t0: clock.now() - 10, dtMs: 10, seq: 1200, samples });
    assert.equal(json, `{"d":"ESP32_001","t0":${clock.now() - 10},"dt":10,"seq":1200,"s":[[0.5,-1.25,9.81,0.01,-0.02,0.03],[1,2,3,4,5,6,7,8,9]]}`);
    const r = codec.decodeJson(json, ctx('mqtt', 'ESP32_001'));
    assert.deepEqual(r.readings, [
      { deviceId: 'ESP32_001', ts: clock.now() - 10, seq: 1200, accel: [0.5, -1.25, 9.81], gyro: [0.01, -0.02, 0.03] },
      { deviceId: 'ESP32_001', ts: clock.now(), seq: 1201, accel: [1, 2, 3], gyro: [4, 5, 6], mag: [7, 8, 9] },
    ]);
  });

  it('format (a), one object and an array', () => {
    const { codec, clock, ctx } = makeCodec();
    const a: SeedSample = { deviceId: 'S1', timestamp: clock.now() - 5, accel: [0.23, -0.01, 9.85], gyro: [0.01, 0.01, 0], mag: [16.17, 11.19, -14.421], temp: 26.82, seq: 3 };
    const b: SeedSample = { deviceId: 'S1', timestamp: clock.now(), accel: [1, 1, 1], gyro: [0, 0, 0] };
    assert.equal(JSON.parse(encodeSeedJson(a)).magnetometer_available, true);
    const one = codec.decodeJson(encodeSeedJson(a), ctx('http'));
    assert.deepEqual(one.readings, [{ deviceId: 'S1', ts: a.timestamp, seq: 3, accel: a.accel, gyro: a.gyro, mag: a.mag, temp: 26.82 }]);
    const both = codec.decodeJson(encodeSeedJson([{ ...a, timestamp: a.timestamp + 1, seq: 4 }, { ...b, timestamp: b.timestamp }]), ctx('http'));
    assert.equal(both.readings.length, 2);
    assert.deepEqual(both.readings[1], { deviceId: 'S1', ts: b.timestamp, accel: [1, 1, 1], gyro: [0, 0, 0] });
  });

  it('format (c), values exactly', () => {
    const { codec, ctx } = makeCodec();
    const values = [1.414, -7.923, -5.295, -0.018, -0.119, -0.083, 47.165, -42.926, 89.798];
    const line = encodeCsvLine(1, 567233, values);
    assert.equal(line, '1,567233,1.414,-7.923,-5.295,-0.018,-0.119,-0.083,47.165,-42.926,89.798');
    const r = codec.decodeLine(line, ctx('serial', 'S'));
    assert.deepEqual([...r.readings[0].accel, ...r.readings[0].gyro, ...r.readings[0].mag!], values);
    assert.deepEqual(parseRecordingCsv(`${line}\n`).rows, [{ node: 1, millis: 567233, values }]);
  });

  it('format (d), to the frame resolution', () => {
    const { codec, clock, ctx } = makeCodec();
    const samples = [[0.23, -0.01, 9.85, 0.01, 0.5, -1.2, 16.17, 11.19, -44.42], [-300, 0, 0, 0, 0, 0, 0, 0, -5000]];
    const frame = encodeBleFrame({ seq: 70_000, t0: 2 ** 32 + 1234, dtUs: 6667, samples });
    assert.equal(frame.length, 11 + 2 * 18);
    assert.deepEqual([...frame.subarray(0, 11)], [1, 1, 70_000 & 0xff, (70_000 >> 8) & 0xff, 1234 & 0xff, 1234 >> 8, 0, 0, 6667 & 0xff, 6667 >> 8, 2]);
    const r = codec.decodeBle(frame, ctx('ble', 'L'));
    assert.equal(r.readings.length, 2);
    assert.deepEqual(r.readings.map((x) => x.seq), [70_000 - 65536, 70_000 - 65536 + 1]);
    assert.equal(r.readings[1].ts, clock.now());
    assert.equal(r.readings[1].ts - r.readings[0].ts, 7, '6.667 ms, rounded to whole ms');
    const resolution = [...Array(3).fill(BLE_ACCEL_MS2_PER_LSB), ...Array(3).fill(BLE_GYRO_RAD_S_PER_LSB), ...Array(3).fill(BLE_MAG_UT_PER_LSB)];
    const decoded = [...r.readings[0].accel, ...r.readings[0].gyro, ...r.readings[0].mag!];
    decoded.forEach((v, k) => assert.ok(Math.abs(v - samples[0][k]) <= resolution[k] / 2 + 1e-12, `value ${k}: ${v} vs ${samples[0][k]}`));
    assert.ok(Math.abs(r.readings[1].accel[0] + 300) <= BLE_ACCEL_MS2_PER_LSB / 2);
    assert.equal(r.readings[1].mag![2], -32768 * BLE_MAG_UT_PER_LSB, 'saturates like a sensor register');
  });

  it('refuses frames the format cannot hold', () => {
    assert.throws(() => encodeBleFrame({ seq: 0, t0: 0, dtUs: 10, samples: Array(256).fill([0, 0, 0, 0, 0, 0]) }), RangeError);
    assert.throws(() => encodeBleFrame({ seq: 0, t0: 0, dtUs: 70_000, samples: [] }), RangeError);
    assert.equal(encodeBleFrame({ seq: 0, t0: 0, dtUs: 10, samples: [[0, 0, 0, 0, 0, 0]], mag: true }).length, 11 + 18);
  });
});

describe('parseCsvNumbers', () => {
  it('gives exactly what Number() gives for decimals, including long and exponent forms', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const fields: string[] = ['0', '-0', '+1', '1.', '.5', '007', '-0.000', '123456789012345', '1234567890123456789', '0.1234567890123456789', '1e3', '-2.5E-3', '9.80665'];
    for (let i = 0; i < 5000; i++) {
      const digits = 1 + Math.floor(random() * 15);
      const value = (random() - 0.5) * 10 ** Math.floor(random() * 6);
      fields.push(value.toFixed(Math.min(digits, 12)));
    }
    const out = new Float64Array(1);
    for (const f of fields) {
      assert.equal(parseCsvNumbers(f, f.length, out), 1, f);
      assert.ok(Object.is(out[0], Number(f)), `${f}: ${out[0]} vs ${Number(f)}`);
    }
  });

  it('refuses what Number() would let through', () => {
    const out = new Float64Array(3);
    for (const bad of ['', ' 1', '1 ', '0x10', '1e', '--1', '1.2.3', 'Infinity', 'NaN', '1,,2', '1,2,', '+', '.', '1_000', '٣']) {
      assert.equal(parseCsvNumbers(bad, bad.length, out), CSV_BAD_NUMBER, JSON.stringify(bad));
    }
    assert.equal(parseCsvNumbers('1,2,3,4', 7, out), CSV_TOO_MANY_FIELDS);
    assert.equal(parseCsvNumbers('1,2,3,4', 5, out), 3, 'reads only up to end');
  });
});

describe('parseRecordingCsv', () => {
  it('reports every line that is not a sample, with its number', () => {
    const text = ['1,100,1,2,3,4,5,6,7,8,9', '', '1,110,1,2,3,4,5,6', 'hello', '1,120,1,2,3', '2.5,130,1,2,3,4,5,6', '1,140,1,2,3,4,5,6,7,8,9\r', ''].join('\n');
    const rec = parseRecordingCsv(text);
    assert.equal(rec.lineCount, 7);
    assert.deepEqual(rec.rows.map((r) => r.millis), [100, 110, 140]);
    assert.deepEqual(rec.badLines.map((b) => [b.line, b.text]), [[2, ''], [4, 'hello'], [5, '1,120,1,2,3'], [6, '2.5,130,1,2,3,4,5,6']]);
    assert.ok(rec.badLines.every((b) => b.reason.length > 0));
  });
});
