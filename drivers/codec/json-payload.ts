/**
 * Walks a parsed JSON payload: seed JSON (format a), compact batches (format b), an array of either, or a
 * hello object, handing each sample to the sink.
 */
import { isUint32, type SampleDraft, type UnitScale } from './sample.js';
import type { SampleSink } from './sample-sink.js';
import type { DeviceHello, RejectReason } from './types.js';

export const MAX_HELLO_HZ = 10_000;
const MAX_FW_LENGTH = 64;

type Json = Record<string, unknown>;

export function walkJsonPayload(value: unknown, sink: SampleSink, maxSamples: number): void {
  if (isObject(value) && 'hello' in value) {
    walkHello(value.hello, sink);
    return;
  }
  const items = Array.isArray(value) ? value : [value];
  let total = 0;
  for (const item of items) total += isObject(item) && Array.isArray(item.s) ? item.s.length : 1;
  if (total > maxSamples) {
    sink.reject(undefined, 'too_large', `${total} samples in one payload, over the limit of ${maxSamples}`);
    return;
  }
  let index = 0;
  for (const item of items) {
    if (!isObject(item)) {
      sink.reject(undefined, 'shape', 'a sample is not a JSON object', index++);
    } else if ('s' in item) {
      index = walkCompactBatch(item, sink, index);
    } else {
      walkSeedSample(item, sink, index++);
    }
  }
}

function walkSeedSample(o: Json, sink: SampleSink, index: number): void {
  const state = sink.device(o.device_id, index, 1);
  if (!state) return;
  const d = sink.draft;
  d.reset();
  const problem = readSeedFields(o, d, sink.scale(state));
  if (problem) sink.reject(state, problem[0], problem[1], index);
  else sink.sample(state, index);
}

function readSeedFields(o: Json, d: SampleDraft, scale: UnitScale): [RejectReason, string] | undefined {
  if (typeof o.timestamp !== 'number') return ['timestamp', 'timestamp missing or not a number'];
  d.time = o.timestamp;
  if (!readVec(o.accelerometer, d.values, 0, scale.accel)) return ['shape', 'accelerometer must be {x, y, z} numbers'];
  if (!readVec(o.gyroscope, d.values, 3, scale.gyro)) return ['shape', 'gyroscope must be {x, y, z} numbers'];
  if (o.magnetometer != null && o.magnetometer_available !== false) {
    if (!readVec(o.magnetometer, d.values, 6, 1)) return ['shape', 'magnetometer must be {x, y, z} numbers'];
    d.hasMag = true;
  }
  if (o.temperature != null) {
    if (typeof o.temperature !== 'number') return ['shape', 'temperature must be a number'];
    d.temp = o.temperature;
  }
  if (o.seq != null) {
    if (typeof o.seq !== 'number') return ['seq', 'seq must be a number'];
    d.seq = o.seq;
  }
  return undefined;
}

function readVec(v: unknown, out: Float64Array, at: number, scale: number): boolean {
  if (!isObject(v) || typeof v.x !== 'number' || typeof v.y !== 'number' || typeof v.z !== 'number') return false;
  out[at] = v.x * scale;
  out[at + 1] = v.y * scale;
  out[at + 2] = v.z * scale;
  return true;
}

/** Returns the index after the batch's samples. */
function walkCompactBatch(o: Json, sink: SampleSink, firstIndex: number): number {
  const s = o.s;
  if (!Array.isArray(s)) {
    sink.reject(undefined, 'shape', '"s" must be an array of samples', firstIndex);
    return firstIndex + 1;
  }
  const end = firstIndex + s.length;
  const state = sink.device(o.d, firstIndex, s.length);
  if (!state) return end;
  const { t0, dt, seq } = o;
  let problem: [RejectReason, string] | undefined;
  if (typeof t0 !== 'number' || !Number.isFinite(t0)) problem = ['timestamp', '"t0" missing or not a finite number'];
  else if (typeof dt !== 'number' || !(dt > 0 && dt < Number.POSITIVE_INFINITY)) problem = ['timestamp', '"dt" must be a positive number of ms'];
  else if (seq != null && !isUint32(seq)) problem = ['seq', '"seq" must be a uint32'];
  if (problem) {
    if (s.length > 0) sink.reject(state, problem[0], problem[1], firstIndex, s.length);
    return end;
  }
  const scale = sink.scale(state);
  const d = sink.draft;
  for (let i = 0; i < s.length; i++) {
    d.reset();
    if (!readCompactValues(s[i], d, scale)) {
      sink.reject(state, 'shape', 'a sample must be an array of 6 or 9 numbers', firstIndex + i);
      continue;
    }
    d.time = (t0 as number) + i * (dt as number);
    if (typeof seq === 'number') d.seq = (seq + i) >>> 0;
    sink.sample(state, firstIndex + i);
  }
  return end;
}

function readCompactValues(sample: unknown, d: SampleDraft, scale: UnitScale): boolean {
  if (!Array.isArray(sample) || (sample.length !== 6 && sample.length !== 9)) return false;
  const v = d.values;
  for (let k = 0; k < sample.length; k++) {
    const x = sample[k];
    if (typeof x !== 'number') return false;
    v[k] = k < 3 ? x * scale.accel : k < 6 ? x * scale.gyro : x;
  }
  d.hasMag = sample.length === 9;
  return true;
}

function walkHello(h: unknown, sink: SampleSink): void {
  if (!isObject(h) || typeof h.deviceId !== 'string') {
    sink.reject(undefined, 'shape', 'hello must be {"hello": {"deviceId": ...}}');
    return;
  }
  const hello: DeviceHello = { deviceId: h.deviceId };
  if (h.fw != null) {
    if (typeof h.fw !== 'string' || h.fw.length > MAX_FW_LENGTH) return sink.reject(undefined, 'shape', 'hello fw must be a short string');
    hello.fw = h.fw;
  }
  if (h.hz != null) {
    if (typeof h.hz !== 'number' || !(h.hz > 0 && h.hz <= MAX_HELLO_HZ)) return sink.reject(undefined, 'shape', 'hello hz must be a positive number');
    hello.hz = h.hz;
  }
  if (h.units != null) {
    const u = h.units;
    if (!isObject(u) || (u.accel != null && u.accel !== 'g' && u.accel !== 'm/s2') || (u.gyro != null && u.gyro !== 'deg/s' && u.gyro !== 'rad/s')) {
      return sink.reject(undefined, 'shape', 'hello units must be {accel?: "g"|"m/s2", gyro?: "deg/s"|"rad/s"}');
    }
    hello.units = {};
    if (u.accel != null) hello.units.accel = u.accel as 'g' | 'm/s2';
    if (u.gyro != null) hello.units.gyro = u.gyro as 'deg/s' | 'rad/s';
  }
  sink.hello(hello);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
