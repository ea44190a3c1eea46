/**
 * Payload generators for the codec fuzz test: payloads of N samples of which K are known to be bad (with
 * the values the good ones must come out with), and mutations of valid payloads.
 */
import { BLE_ACCEL_MS2_PER_LSB, BLE_GYRO_RAD_S_PER_LSB, BLE_MAG_UT_PER_LSB } from '../../drivers/codec/ble-frame.js';

export type Random = () => number;

/** mulberry32, the one seeded generator of the project. */
export { seededRandom } from '../../models/random.js';

export const int = (random: Random, lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
export const pickOne = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];
// `|| 0`: JSON has no -0, so a -0 here would not survive the round trip it is compared across.
const real = (random: Random, span: number) => Math.round((random() * 2 - 1) * span * 1000) / 1000 || 0;

/** A payload with N samples, K of them bad; `expected` holds the good samples' accel+gyro(+mag) values. */
export interface Built<P> {
  payload: P;
  n: number;
  bad: number;
  expected: number[][];
}

/** Chooses which of n samples are bad: about a quarter, at random places. */
function badMask(random: Random, n: number): boolean[] {
  return Array.from({ length: n }, () => random() < 0.25);
}

/** Overflowing literals cannot come out of JSON.stringify (it writes null), so they are spliced in. */
const OVERFLOW = '"__overflow__"';
export const spliceOverflow = (json: string) => json.replaceAll(OVERFLOW, '1e999');

function goodValues(random: Random, withMag: boolean): number[] {
  const v = [real(random, 50), real(random, 50), real(random, 50), real(random, 10), real(random, 10), real(random, 10)];
  if (withMag) v.push(real(random, 100), real(random, 100), real(random, 100));
  return v;
}

export function buildSeed(random: Random, deviceId: string, t0: number, vouched: boolean): Built<string> {
  const n = int(random, 1, 20);
  const mask = badMask(random, n);
  const expected: number[][] = [];
  const withSeq = random() < 0.5;
  const items = mask.map((isBad, i) => {
    const v = goodValues(random, random() < 0.5);
    const o: Record<string, unknown> = {
      device_id: deviceId,
      timestamp: t0 + i * 10,
      accelerometer: { x: v[0], y: v[1], z: v[2] },
      gyroscope: { x: v[3], y: v[4], z: v[5] },
    };
    if (v.length === 9) o.magnetometer = { x: v[6], y: v[7], z: v[8] };
    if (random() < 0.3) o.temperature = real(random, 40);
    if (withSeq) o.seq = 1000 + i;
    if (!isBad) {
      expected.push(v);
      return o;
    }
    const kinds = ['accel', 'gyro', 'missing', 'type', 'time', 'temp', 'id', 'seq', 'overflow', 'mag'];
    if (vouched) kinds.push('mismatch');
    switch (pickOne(random, kinds)) {
      case 'accel': (o.accelerometer as Record<string, number>).y = 400; break;
      case 'gyro': (o.gyroscope as Record<string, number>).z = -41; break;
      case 'missing': delete o.gyroscope; break;
      case 'type': (o.accelerometer as Record<string, unknown>).x = '1'; break;
      case 'time': o.timestamp = -1; break;
      case 'temp': o.temperature = 500; break;
      case 'id': o.device_id = 'bad id'; break;
      case 'seq': o.seq = 1.5; break;
      case 'overflow': (o.gyroscope as Record<string, unknown>).x = OVERFLOW; break;
      case 'mag': o.magnetometer = { x: 0, y: 2e6, z: 0 }; break;
      case 'mismatch': o.device_id = `${deviceId}-other`; break;
    }
    return o;
  });
  return { payload: spliceOverflow(JSON.stringify(items)), n, bad: mask.filter(Boolean).length, expected };
}

export function buildCompact(random: Random, deviceId: string, t0: number): Built<string> {
  const n = int(random, 1, 30);
  const mask = badMask(random, n);
  const withMag = random() < 0.5;
  const expected: number[][] = [];
  const s = mask.map((isBad) => {
    const v = goodValues(random, withMag);
    if (!isBad) {
      expected.push(v);
      return v;
    }
    const bad: unknown[] = v.slice();
    switch (int(random, 0, 5)) {
      case 0: bad[int(random, 0, 2)] = 314; break;
      case 1: bad[int(random, 3, 5)] = 40.5; break;
      case 2: bad[int(random, 0, bad.length - 1)] = pickOne(random, ['1', null, true, [], {}]); break;
      case 3: bad.push(1); break;
      case 4: bad[int(random, 0, bad.length - 1)] = OVERFLOW; break;
      case 5: return pickOne(random, [null, 7, 'x', {}, []]);
    }
    return bad;
  });
  const body: Record<string, unknown> = { d: deviceId, t0, dt: pickOne(random, [5, 10, 6.667, 20]), s };
  if (random() < 0.5) body.seq = int(random, 0, 2 ** 32 - 1);
  return { payload: spliceOverflow(JSON.stringify(body)), n, bad: mask.filter(Boolean).length, expected };
}

/** N CSV lines, K of them bad. */
export function buildCsvLines(random: Random, millis0: number): Built<string[]> {
  const n = int(random, 1, 20);
  const mask = badMask(random, n);
  const expected: number[][] = [];
  let millis = millis0;
  const lines = mask.map((isBad) => {
    millis += int(random, 1, 30);
    const withMag = random() < 0.7;
    const fields = goodValues(random, withMag).map((x) => x.toFixed(3));
    if (!isBad) {
      expected.push(fields.map(Number));
      return `1,${millis},${fields.join(',')}`;
    }
    switch (int(random, 0, 7)) {
      case 0: fields[int(random, 3, 5)] = '55.5'; break;
      case 1: fields[int(random, 0, fields.length - 1)] = pickOne(random, ['nan', 'NaN', 'Infinity', '', ' 1', '0x1', '1e999']); break;
      case 2: fields.pop(); break;
      case 3: fields.push('1'); break;
      case 4: return `1,${millis},${fields.join(',')},${'9'.repeat(1100)}`;
      case 5: return `x,${millis},${fields.join(',')}`;
      case 6: return `1,${millis};${fields.join(';')}`;
      case 7: return `1,-${millis},${fields.join(',')}`;
    }
    return `1,${millis},${fields.join(',')}`;
  });
  return { payload: lines, n, bad: mask.filter(Boolean).length, expected };
}

export function buildBleFrame(random: Random, seq: number, t0: number): Built<Uint8Array> {
  const n = int(random, 1, 30);
  const mask = badMask(random, n);
  const mag = random() < 0.5;
  const per = mag ? 9 : 6;
  const frame = new Uint8Array(11 + n * per * 2);
  const view = new DataView(frame.buffer);
  view.setUint8(0, 1);
  view.setUint8(1, mag ? 1 : 0);
  view.setUint16(2, seq & 0xffff, true);
  view.setUint32(4, t0 >>> 0, true);
  view.setUint16(8, int(random, 1000, 20_000), true);
  view.setUint8(10, n);
  const expected: number[][] = [];
  mask.forEach((isBad, i) => {
    const lsb = [int(random, -16000, 16000), int(random, -16000, 16000), int(random, -16000, 16000), int(random, -20000, 20000), int(random, -20000, 20000), int(random, -20000, 20000)];
    if (mag) lsb.push(int(random, -32768, 32767), int(random, -32768, 32767), int(random, -32768, 32767));
    if (isBad) {
      if (random() < 0.5) lsb[int(random, 0, 2)] = pickOne(random, [32001, -32768, 32767]);
      else lsb[int(random, 3, 5)] = pickOne(random, [22919, -23000, 32767]);
    } else {
      expected.push(lsb.map((x, k) => x * (k < 3 ? BLE_ACCEL_MS2_PER_LSB : k < 6 ? BLE_GYRO_RAD_S_PER_LSB : BLE_MAG_UT_PER_LSB)));
    }
    lsb.forEach((x, k) => view.setInt16(11 + (i * per + k) * 2, x, true));
  });
  return { payload: frame, n, bad: mask.filter(Boolean).length, expected };
}

const WEIRD_VALUES: unknown[] = [OVERFLOW, '-1e999', 1e308, -1e308, 'str', null, true, false, [], {}, -1, 2 ** 53, 0.5, 'x'.repeat(300), [1, 2, 3]];

/** A structural mutation of a parsed JSON value: a value replaced, a key removed or added. */
export function mutateJsonValue(random: Random, value: unknown): unknown {
  const containers: (Record<string, unknown> | unknown[])[] = [];
  const walk = (v: unknown) => {
    if (v !== null && typeof v === 'object') {
      containers.push(v as Record<string, unknown>);
      for (const child of Object.values(v)) walk(child);
    }
  };
  walk(value);
  if (containers.length === 0) return pickOne(random, WEIRD_VALUES);
  const target = pickOne(random, containers);
  const keys = Object.keys(target);
  const roll = random();
  if (roll < 0.6 && keys.length > 0) (target as Record<string, unknown>)[pickOne(random, keys)] = pickOne(random, WEIRD_VALUES);
  else if (roll < 0.8 && keys.length > 0 && !Array.isArray(target)) delete target[pickOne(random, keys)];
  else if (Array.isArray(target)) target.push(pickOne(random, WEIRD_VALUES));
  else target[pickOne(random, ['extra', 'hello', 's', 'd', '__proto__', 'timestamp'])] = pickOne(random, WEIRD_VALUES);
  return value;
}

/** Byte-level damage: bit flips, truncation, random bytes appended. */
export function mutateBytes(random: Random, bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  switch (int(random, 0, 3)) {
    case 0:
      for (let i = int(random, 1, 5); i > 0 && out.length > 0; i--) out[int(random, 0, out.length - 1)] ^= 1 << int(random, 0, 7);
      return out;
    case 1:
      return out.subarray(0, int(random, 0, out.length));
    case 2:
      return Uint8Array.from([...out, ...Array.from({ length: int(random, 1, 40) }, () => int(random, 0, 255))]);
    default:
      return Uint8Array.from({ length: int(random, 0, 64) }, () => int(random, 0, 255));
  }
}

