import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeBleFrame, encodeCompactBatch, encodeCsvLine, encodeSeedJson } from '../../drivers/codec/encode.js';
import { STANDARD_GRAVITY_MS2 } from '../../drivers/codec/sample.js';
import { UNATTRIBUTED_DEVICE_KEY } from '../../drivers/codec/codec.js';
import { makeCodec } from './support.js';

function assertNear(actual: readonly number[], expected: readonly number[], epsilon = 1e-9): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= epsilon, `[${i}] ${v} is not ${expected[i]}`));
}

const SEED_EXAMPLE =
  '{"device_id":"ESP32_001","timestamp":1640995200000,"magnetometer_available":true,"accelerometer":{"x":0.23,"y":-0.01,"z":9.85},"gyroscope":{"x":0.01,"y":0.01,"z":0},"magnetometer":{"x":1617,"y":1119,"z":-14421},"temperature":26.82}';

describe('format (a) seed JSON', () => {
  it('accepts the seed example as is, mag in raw counts included', () => {
    const { codec, clock, ctx } = makeCodec();
    const r = codec.decodeJson(Buffer.from(SEED_EXAMPLE), ctx('http'));
    assert.equal(r.rejected, 0);
    assert.deepEqual(r.readings, [
      { deviceId: 'ESP32_001', ts: clock.now(), accel: [0.23, -0.01, 9.85], gyro: [0.01, 0.01, 0], mag: [1617, 1119, -14421], temp: 26.82 },
    ]);
  });

  it('keeps the valid samples of an array around a bad one', () => {
    const { codec, clock, ctx } = makeCodec();
    const t = clock.now() - 100;
    const body = encodeSeedJson([
      { deviceId: 'A', timestamp: t, accel: [0, 0, 9.8], gyro: [0, 0, 0] },
      { deviceId: 'A', timestamp: t + 10, accel: [0, 0, 400], gyro: [0, 0, 0] },
      { deviceId: 'A', timestamp: t + 20, accel: [1, 2, 3], gyro: [0.1, 0.2, 0.3], temp: 30, seq: 7 },
    ]);
    const r = codec.decodeJson(body, ctx('http'));
    assert.equal(r.rejected, 1);
    assert.deepEqual(r.firstError, { reason: 'accel_range', message: r.firstError?.message, index: 1 });
    assert.deepEqual(r.readings.map((x) => x.accel), [[0, 0, 9.8], [1, 2, 3]]);
    // A wall clock within 2 s of the hub's is trusted: device time is the hub time.
    assert.deepEqual(r.readings.map((x) => x.ts), [t, t + 20]);
    assert.equal(r.readings[1].seq, 7);
    assert.equal(r.readings[1].temp, 30);
  });

  it('ignores the magnetometer when magnetometer_available is false, and null optionals', () => {
    const { codec, ctx } = makeCodec();
    const body = JSON.parse(SEED_EXAMPLE);
    body.magnetometer_available = false;
    body.temperature = null;
    const r = codec.decodeJson(JSON.stringify(body), ctx('http'));
    assert.equal(r.readings[0].mag, undefined);
    assert.equal('temp' in r.readings[0], false);
  });
});

describe('format (b) compact batch', () => {
  it('spreads samples dt apart, numbers them from seq, reads 9-value samples as mag', () => {
    const { codec, clock, ctx } = makeCodec();
    const t0 = clock.now() - 30;
    const body = encodeCompactBatch({ deviceId: 'B1', t0, dtMs: 10, seq: 40, samples: [[0, 0, 9.8, 0, 0, 0], [1, 1, 1, 1, 1, 1, 20, 30, 40], [2, 2, 2, 2, 2, 2], [3, 3, 3, 3, 3, 3]] });
    const r = codec.decodeJson(body, ctx('mqtt', 'B1'));
    assert.equal(r.rejected, 0);
    assert.deepEqual(r.readings.map((x) => [x.ts, x.seq]), [[t0, 40], [t0 + 10, 41], [t0 + 20, 42], [t0 + 30, 43]]);
    assert.deepEqual(r.readings[1].mag, [20, 30, 40]);
    assert.equal(r.readings[0].mag, undefined);
  });

  it('accepts an array of batches and several devices over HTTP', () => {
    const { codec, clock, ctx } = makeCodec();
    const t0 = clock.now() - 100;
    const a = JSON.parse(encodeCompactBatch({ deviceId: 'A', t0, dtMs: 5, samples: [[0, 0, 1, 0, 0, 0], [0, 0, 2, 0, 0, 0]] }));
    const b = JSON.parse(encodeCompactBatch({ deviceId: 'B', t0, dtMs: 5, samples: [[0, 0, 3, 0, 0, 0]] }));
    const r = codec.decodeJson(JSON.stringify([a, b]), ctx('http'));
    assert.deepEqual(r.readings.map((x) => [x.deviceId, x.accel[2]]), [['A', 1], ['A', 2], ['B', 3]]);
  });

  it('rejects every sample of a batch whose header is broken', () => {
    const { codec, ctx } = makeCodec();
    const r = codec.decodeJson('{"d":"A","t0":"soon","dt":10,"s":[[0,0,1,0,0,0],[0,0,1,0,0,0]]}', ctx('http'));
    assert.equal(r.rejected, 2);
    assert.equal(r.firstError?.reason, 'timestamp');
    const r2 = codec.decodeJson('{"d":"A","t0":1,"dt":0,"s":[[0,0,1,0,0,0]]}', ctx('http'));
    assert.equal(r2.firstError?.reason, 'timestamp');
    const r3 = codec.decodeJson('{"d":"A","t0":1,"dt":1,"seq":-4,"s":[[0,0,1,0,0,0]]}', ctx('http'));
    assert.equal(r3.firstError?.reason, 'seq');
  });
});

describe('format (c) CSV line', () => {
  it('reads 11 and 8 fields, tolerates \\r, belongs to the vouched device', () => {
    const { codec, ctx } = makeCodec();
    const r = codec.decodeLine('1,567233,1.414,-7.923,-5.295,-0.018,-0.119,-0.083,47.165,-42.926,89.798\r', ctx('serial', 'serial-ttyUSB0'));
    assert.deepEqual(r.readings.map(({ deviceId, accel, gyro, mag }) => ({ deviceId, accel, gyro, mag })), [
      { deviceId: 'serial-ttyUSB0', accel: [1.414, -7.923, -5.295], gyro: [-0.018, -0.119, -0.083], mag: [47.165, -42.926, 89.798] },
    ]);
    const r2 = codec.decodeLine(encodeCsvLine(3, 567300, [1, 2, 3, 0.1, 0.2, 0.3]), ctx('serial', 'serial-ttyUSB0'));
    assert.equal(r2.readings.length, 1);
    assert.equal(r2.readings[0].mag, undefined);
  });

  it('counts garbled, partial and odd lines, and ignores empty ones', () => {
    const { codec, ctx } = makeCodec();
    const c = ctx('serial', 'S');
    const reasons = (line: string) => codec.decodeLine(line, c).firstError?.reason;
    assert.equal(reasons('ets Jun  8 2016 00:22:57'), 'parse');
    assert.equal(reasons('1,100,1,2,3,4'), 'shape');
    assert.equal(reasons('1,100,1,2,3,0.1,0.2,0.3,4,5'), 'shape');
    assert.equal(reasons('1,100,1,2,3,0.1,0.2,0.3,4,5,6,7'), 'shape');
    assert.equal(reasons('1.5,100,1,2,3,0.1,0.2,0.3'), 'shape');
    assert.equal(reasons('1,100,1,,3,0.1,0.2,0.3'), 'parse');
    assert.equal(reasons('1,100,1, 2,3,0.1,0.2,0.3'), 'parse');
    assert.equal(reasons('1,100,0x10,2,3,0.1,0.2,0.3'), 'parse');
    assert.equal(reasons('1,100,1,2,3,0.1,0.2,99'), 'gyro_range');
    assert.equal(reasons('1,-5,1,2,3,0.1,0.2,0.3'), 'timestamp');
    assert.equal(reasons(`1,100,${'1'.repeat(1100)},2,3,0.1,0.2,0.3`), 'too_large');
    const empty = codec.decodeLine('\r\n', c);
    assert.deepEqual(empty, { readings: [], rejected: 0, duplicates: 0, gaps: 0 });
    assert.equal(codec.deviceCounters('S')?.rejected, 11);
  });

  it('needs a vouched device id', () => {
    const { codec, ctx } = makeCodec();
    const r = codec.decodeLine('1,100,1,2,3,0.1,0.2,0.3', ctx('serial'));
    assert.equal(r.firstError?.reason, 'device_id');
  });

  it('hands JSON lines to the JSON decoder', () => {
    const { codec, clock, ctx } = makeCodec();
    const line = `${encodeCompactBatch({ deviceId: 'S', t0: clock.now() - 10, dtMs: 10, samples: [[0, 0, 1, 0, 0, 0], [0, 0, 2, 0, 0, 0]] })}\r`;
    assert.equal(codec.decodeLine(line, ctx('serial', 'S')).readings.length, 2);
  });

  it('drops a re-sent sensor read (same six values) as a duplicate, but not in other formats', () => {
    const { codec, clock, ctx } = makeCodec();
    const c = ctx('serial', 'S');
    const lines = ['1,1000,1,2,3,0.1,0.2,0.3,5,5,5', '1,1003,1,2,3,0.1,0.2,0.3,6,6,6', '1,1020,1,2,3.5,0.1,0.2,0.3'];
    const results = lines.map((l) => codec.decodeLine(l, c));
    assert.deepEqual(results.map((r) => [r.readings.length, r.duplicates]), [[1, 0], [0, 1], [1, 0]]);
    const t0 = clock.now() - 20;
    const same = [0, 0, 1, 0, 0, 0];
    const batch = codec.decodeJson(encodeCompactBatch({ deviceId: 'J', t0, dtMs: 10, samples: [same, same, same] }), ctx('mqtt', 'J'));
    assert.equal(batch.readings.length, 3);
  });
});

describe('format (d) BLE frame', () => {
  it('converts milli-g, 0.1 deg/s and 0.1 uT to the hub units', () => {
    const { codec, ctx } = makeCodec();
    const frame = new Uint8Array([1, 1, 0x10, 0, 0xe8, 0x03, 0, 0, 0x10, 0x27, 1, 0xe8, 0x03, 0x18, 0xfc, 0, 0, 0x08, 0x07, 0, 0, 0, 0, 0xf4, 0x01, 0, 0, 0x0c, 0xfe]);
    const r = codec.decodeBle(frame, ctx('ble', 'L1'));
    assert.equal(r.rejected, 0);
    const [x] = r.readings;
    assert.equal(x.seq, 16);
    assertNear(x.accel, [STANDARD_GRAVITY_MS2, -STANDARD_GRAVITY_MS2, 0]);
    assertNear(x.gyro, [Math.PI, 0, 0]);
    assertNear(x.mag!, [50, 0, -50]);
  });

  it('insists on the exact length, version 1, and a vouched device', () => {
    const { codec, ctx } = makeCodec();
    const frame = encodeBleFrame({ seq: 1, t0: 100, dtUs: 10_000, samples: [[0, 0, 9.8, 0, 0, 0], [0, 0, 9.8, 0, 0, 0]] });
    assert.equal(frame.length, 11 + 2 * 12);
    const c = ctx('ble', 'L1');
    assert.equal(codec.decodeBle(frame.subarray(0, 10), c).firstError?.reason, 'parse');
    assert.equal(codec.decodeBle(frame.subarray(0, frame.length - 1), c).firstError?.reason, 'parse');
    assert.equal(codec.decodeBle(new Uint8Array([...frame, 0]), c).firstError?.reason, 'parse');
    const withMagFlag = frame.slice();
    withMagFlag[1] = 1;
    assert.equal(codec.decodeBle(withMagFlag, c).firstError?.reason, 'parse');
    const v2 = frame.slice();
    v2[0] = 2;
    assert.equal(codec.decodeBle(v2, c).firstError?.reason, 'version');
    assert.equal(codec.decodeBle(frame, ctx('ble')).firstError?.reason, 'device_id');
    const empty = encodeBleFrame({ seq: 1, t0: 100, dtUs: 0, samples: [] });
    assert.deepEqual(codec.decodeBle(empty, c), { readings: [], rejected: 0, duplicates: 0, gaps: 0 });
    assert.equal(codec.decodeBle(frame, c).readings.length, 2);
    assert.equal(codec.deviceCounters('L1')?.rejected, 5);
  });

  it('reads a frame that sits inside a larger buffer', () => {
    const { codec, ctx } = makeCodec();
    const frame = encodeBleFrame({ seq: 9, t0: 100, dtUs: 5000, samples: [[0, 0, 9.8, 0, 0, 0]] });
    const big = new Uint8Array(frame.length + 7);
    big.set(frame, 3);
    const r = codec.decodeBle(big.subarray(3, 3 + frame.length), ctx('ble', 'L1'));
    assert.equal(r.readings[0].seq, 9);
  });

  it('rejects out-of-range int16 values alone', () => {
    const { codec, ctx } = makeCodec();
    const g = STANDARD_GRAVITY_MS2;
    const frame = encodeBleFrame({ seq: 0, t0: 100, dtUs: 10_000, samples: [[0, 0, g, 0, 0, 0], [0, 0, 32.5 * g, 0, 0, 0], [0, 0, 0, 45, 0, 0], [g, 0, 0, 0, 0, 0]] });
    const r = codec.decodeBle(frame, ctx('ble', 'L1'));
    assert.deepEqual([r.readings.length, r.rejected, r.gaps], [2, 2, 0]);
    assert.deepEqual(r.readings.map((x) => x.seq), [0, 3]);
  });
});

describe('units', () => {
  it('converts g and deg/s for formats a, b and c once declared, never for BLE', () => {
    const { codec, clock, ctx } = makeCodec();
    codec.setUnits('U', { accel: 'g', gyro: 'deg/s' });
    const t = clock.now() - 10;
    const a = codec.decodeJson(encodeSeedJson({ deviceId: 'U', timestamp: t, accel: [0, 0, 1], gyro: [180, 0, 0] }), ctx('http'));
    assert.deepEqual(a.readings[0].accel, [0, 0, STANDARD_GRAVITY_MS2]);
    assertNear(a.readings[0].gyro, [Math.PI, 0, 0]);
    const b = codec.decodeJson(encodeCompactBatch({ deviceId: 'U', t0: t + 1, dtMs: 1, samples: [[2, 0, 0, 0, 90, 0]] }), ctx('mqtt', 'U'));
    assert.deepEqual(b.readings[0].accel, [2 * STANDARD_GRAVITY_MS2, 0, 0]);
    assertNear(b.readings[0].gyro, [0, Math.PI / 2, 0]);
    const c = codec.decodeLine('1,1000,0,0,-1,0,0,0', ctx('serial', 'U'));
    assert.deepEqual(c.readings[0].accel, [0, 0, -STANDARD_GRAVITY_MS2]);
    // 40 g is over the limit once converted, though 40 m/s^2 would not be.
    assert.equal(codec.decodeLine('1,1010,0,0,40,0,0,0', ctx('serial', 'U')).firstError?.reason, 'accel_range');
    const d = codec.decodeBle(encodeBleFrame({ seq: 0, t0: 5, dtUs: 0, samples: [[0, 0, STANDARD_GRAVITY_MS2, 0, 0, 0]] }), ctx('ble', 'U'));
    assert.deepEqual(d.readings[0].accel, [0, 0, STANDARD_GRAVITY_MS2]);
    codec.setUnits('U', { accel: 'm/s2', gyro: 'rad/s' });
    assert.deepEqual(codec.decodeLine('1,1020,0,0,1,0,0,0', ctx('serial', 'U')).readings[0].accel, [0, 0, 1]);
  });

  it('takes units from a hello', () => {
    const { codec, ctx } = makeCodec();
    const r = codec.decodeLine('{"hello":{"deviceId":"ESP32_7","fw":"1.2.0","hz":100,"units":{"accel":"g"}}}', ctx('serial', 'serial-ttyACM0'));
    assert.deepEqual(r.hello, { deviceId: 'ESP32_7', fw: '1.2.0', hz: 100, units: { accel: 'g' } });
    assert.equal(r.rejected, 0);
    assert.equal(codec.decodeLine('1,1,0,0,1,0,0,0', ctx('serial', 'ESP32_7')).readings[0].accel[2], STANDARD_GRAVITY_MS2);
  });
});

describe('hello', () => {
  it('lets a serial port learn its name, but refuses another name on a vouched MQTT connection', () => {
    const { codec, ctx } = makeCodec();
    assert.equal(codec.decodeJson('{"hello":{"deviceId":"B"}}', ctx('mqtt', 'A')).firstError?.reason, 'device_mismatch');
    assert.equal(codec.decodeJson('{"hello":{"deviceId":"A","hz":50}}', ctx('mqtt', 'A')).hello?.hz, 50);
    assert.equal(codec.decodeJson('{"hello":{"deviceId":"no spaces"}}', ctx('serial', 'S')).firstError?.reason, 'device_id');
    for (const bad of ['{"hello":"x"}', '{"hello":{"deviceId":"A","hz":-1}}', '{"hello":{"deviceId":"A","units":{"accel":"furlongs"}}}', '{"hello":{"deviceId":"A","fw":7}}']) {
      const r = codec.decodeJson(bad, ctx('serial', 'S'));
      assert.equal(r.firstError?.reason, 'shape', bad);
      assert.equal(r.hello, undefined);
    }
  });
});

describe('validation', () => {
  const t = Date.UTC(2026, 0, 1) - 1000;
  // JSON.stringify writes Infinity as null, so overflowing literals are spliced into the text.
  const seed = (patch: Record<string, unknown>) =>
    JSON.stringify({ device_id: 'V', timestamp: t, accelerometer: { x: 0, y: 0, z: 9.8 }, gyroscope: { x: 0, y: 0, z: 0 }, ...patch })
      .replace(/"(-?1e[34]\d\d)"/g, '$1');
  const cases: [string, Record<string, unknown>][] = [
    ['not_finite', { accelerometer: { x: '1e400', y: 0, z: 0 } }],
    ['not_finite', { temperature: '-1e400' }],
    ['accel_range', { accelerometer: { x: 0, y: -314, z: 0 } }],
    ['gyro_range', { gyroscope: { x: 0, y: 0, z: 40.01 } }],
    ['mag_range', { magnetometer: { x: 0, y: 2e6, z: 0 } }],
    ['temp_range', { temperature: 900 }],
    ['timestamp', { timestamp: -1 }],
    ['timestamp', { timestamp: '2026-01-01' }],
    ['timestamp', { timestamp: undefined }],
    ['timestamp', { timestamp: 1e16 }],
    ['seq', { seq: 1.5 }],
    ['seq', { seq: 2 ** 32 }],
    ['seq', { seq: '7' }],
    ['shape', { accelerometer: [0, 0, 9.8] }],
    ['shape', { gyroscope: { x: 0, y: '0', z: 0 } }],
    ['shape', { magnetometer: 'yes' }],
    ['shape', { temperature: 'warm' }],
    ['device_id', { device_id: 'has space' }],
    ['device_id', { device_id: 'x'.repeat(65) }],
    ['device_id', { device_id: 42 }],
    ['device_id', { device_id: undefined }],
  ];
  for (const [reason, patch] of cases) {
    it(`rejects ${reason}: ${JSON.stringify(patch)}`, () => {
      const { codec, ctx } = makeCodec();
      const r = codec.decodeJson(seed(patch), ctx('http'));
      assert.equal(r.readings.length, 0);
      assert.equal(r.rejected, 1);
      assert.equal(r.firstError?.reason, reason);
    });
  }

  it('accepts the edges of the ranges', () => {
    const { codec, ctx } = makeCodec();
    const r = codec.decodeJson(seed({ accelerometer: { x: 32 * STANDARD_GRAVITY_MS2, y: 0, z: 0 }, gyroscope: { x: -40, y: 0, z: 0 }, seq: 2 ** 32 - 1 }), ctx('http'));
    assert.equal(r.readings.length, 1);
  });

  it('rejects another device on a vouched connection, counted against the connection', () => {
    const { codec, clock, ctx } = makeCodec();
    const r = codec.decodeJson(encodeCompactBatch({ deviceId: 'B', t0: clock.now(), dtMs: 10, samples: [[0, 0, 1, 0, 0, 0], [0, 0, 1, 0, 0, 0]] }), ctx('mqtt', 'A'));
    assert.deepEqual([r.readings.length, r.rejected, r.firstError?.reason], [0, 2, 'device_mismatch']);
    assert.equal(codec.deviceCounters('A')?.rejectedByReason.device_mismatch, 2);
    assert.equal(codec.deviceCounters('B'), undefined);
    const seedR = codec.decodeJson(seed({ device_id: 'B' }), ctx('mqtt', 'A'));
    assert.equal(seedR.firstError?.reason, 'device_mismatch');
    // Omitting the id on a vouched connection is fine: the connection names the device.
    assert.equal(codec.decodeJson(seed({ device_id: undefined }), ctx('mqtt', 'A')).readings[0].deviceId, 'A');
  });

  it('rejects oversized and unparseable payloads as one each', () => {
    const { codec, ctx } = makeCodec({ limits: { maxJsonBytes: 1000, maxSamplesPerPayload: 3 } });
    const big = codec.decodeJson(Buffer.from(`[${seed({}).repeat(1).padEnd(2000, ' ')}]`), ctx('http'));
    assert.deepEqual([big.rejected, big.firstError?.reason], [1, 'too_large']);
    const multiByte = codec.decodeJson(`"${'é'.repeat(600)}"`, ctx('http'));
    assert.equal(multiByte.firstError?.reason, 'too_large');
    const many = codec.decodeJson(`[${[seed({}), seed({}), seed({}), seed({})].join(',')}]`, ctx('http'));
    assert.deepEqual([many.rejected, many.firstError?.reason], [1, 'too_large']);
    const truncated = codec.decodeJson(seed({}).slice(0, 40), ctx('http'));
    assert.deepEqual([truncated.rejected, truncated.firstError?.reason], [1, 'parse']);
    const notSample = codec.decodeJson('[1, "two", null]', ctx('http'));
    assert.deepEqual([notSample.rejected, notSample.firstError?.reason], [3, 'shape']);
    assert.equal(codec.counters()[UNATTRIBUTED_DEVICE_KEY].rejected, 7);
  });

  it('uses the default limits: 256 KiB, 2000 samples', () => {
    const { codec, clock, ctx } = makeCodec();
    const samples = Array.from({ length: 2001 }, () => [0, 0, 9.8, 0, 0, 0]);
    const r = codec.decodeJson(encodeCompactBatch({ deviceId: 'A', t0: clock.now(), dtMs: 1, samples }), ctx('mqtt', 'A'));
    assert.equal(r.firstError?.reason, 'too_large');
    const ok = codec.decodeJson(encodeCompactBatch({ deviceId: 'A', t0: clock.now() - 2000, dtMs: 1, samples: samples.slice(1) }), ctx('mqtt', 'A'));
    assert.equal(ok.readings.length, 2000);
    const huge = codec.decodeJson(' '.repeat(256 * 1024 + 1), ctx('mqtt', 'A'));
    assert.equal(huge.firstError?.reason, 'too_large');
  });
});
