/**
 * BLE IMU frame layout (SPEC format d), one GATT notification, little-endian:
 *
 *   offset 0  u8   version (1)
 *          1  u8   flags, bit 0: magnetometer values present
 *          2  u16  seq of the first sample (sample i is seq + i mod 65536)
 *          4  u32  t0, device ms of the first sample
 *          8  u16  dt, microseconds between samples
 *         10  u8   count
 *         11  count samples of int16: ax ay az (milli-g), gx gy gz (0.1 deg/s)[, mx my mz (0.1 uT)]
 */
import { RAD_PER_DEG, STANDARD_GRAVITY_MS2 } from './sample.js';
import type { SampleSink } from './sample-sink.js';

export const BLE_FRAME_VERSION = 1;
export const BLE_HEADER_BYTES = 11;
export const BLE_FLAG_MAG = 0x01;
export const BLE_MAX_SAMPLES = 255;

export const BLE_ACCEL_MS2_PER_LSB = STANDARD_GRAVITY_MS2 / 1000;
export const BLE_GYRO_RAD_S_PER_LSB = 0.1 * RAD_PER_DEG;
export const BLE_MAG_UT_PER_LSB = 0.1;

export interface BleFrameHeader {
  version: number;
  hasMag: boolean;
  seq16: number;
  t0Ms: number;
  dtUs: number;
  count: number;
}

export function bleSampleBytes(hasMag: boolean): number {
  return (hasMag ? 9 : 6) * 2;
}

export function bleFrameBytes(count: number, hasMag: boolean): number {
  return BLE_HEADER_BYTES + count * bleSampleBytes(hasMag);
}

/** Reads the header; undefined when the frame is shorter than one. */
export function readBleHeader(view: DataView): BleFrameHeader | undefined {
  if (view.byteLength < BLE_HEADER_BYTES) return undefined;
  return {
    version: view.getUint8(0),
    hasMag: (view.getUint8(1) & BLE_FLAG_MAG) !== 0,
    seq16: view.getUint16(2, true),
    t0Ms: view.getUint32(4, true),
    dtUs: view.getUint16(8, true),
    count: view.getUint8(10),
  };
}

/** Hands the samples of one frame of the transport's device to the sink. */
export function walkBleFrame(frame: Uint8Array, sink: SampleSink): void {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const h = readBleHeader(view);
  if (!h) return sink.reject(undefined, 'parse', `frame of ${frame.byteLength} bytes is shorter than its ${BLE_HEADER_BYTES}-byte header`);
  if (h.version !== BLE_FRAME_VERSION) return sink.reject(undefined, 'version', `frame version ${h.version}, expected ${BLE_FRAME_VERSION}`);
  const expected = bleFrameBytes(h.count, h.hasMag);
  if (frame.byteLength !== expected) {
    return sink.reject(undefined, 'parse', `frame of ${frame.byteLength} bytes, expected ${expected} for ${h.count} samples`);
  }
  const state = sink.device(undefined, 0, h.count);
  if (!state || h.count === 0) return;
  if (h.dtUs === 0 && h.count > 1) return sink.reject(state, 'timestamp', 'dt of 0 us for several samples', 0, h.count);
  const d = sink.draft;
  const perSample = h.hasMag ? 9 : 6;
  let at = BLE_HEADER_BYTES;
  for (let i = 0; i < h.count; i++) {
    d.reset();
    for (let k = 0; k < perSample; k++, at += 2) {
      d.values[k] = view.getInt16(at, true) * (k < 3 ? BLE_ACCEL_MS2_PER_LSB : k < 6 ? BLE_GYRO_RAD_S_PER_LSB : BLE_MAG_UT_PER_LSB);
    }
    d.hasMag = h.hasMag;
    d.time = h.t0Ms + (i * h.dtUs) / 1000;
    d.seq = unwrapSeq16(state.lastSeq, (h.seq16 + i) & 0xffff);
    sink.sample(state, i);
  }
}

/** The running uint32 counter a u16 seq continues, wrap-safe; the u16 itself for a device's first one. */
export function unwrapSeq16(lastSeq: number, seq16: number): number {
  if (lastSeq === -1) return seq16;
  const step = ((seq16 - (lastSeq & 0xffff)) << 16) >> 16;
  return (lastSeq + step) >>> 0;
}
