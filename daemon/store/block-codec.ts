import { endianness } from 'node:os';
import { HAS_MAG, HAS_SEQ, HAS_TEMP, SampleColumns } from './sample-columns.js';

/**
 * Binary layout of a block of one device's readings (also each device's part of a journal entry), version 1.
 * Little-endian; numeric columns first so that every column is aligned for a typed-array view:
 *
 *   offset 0  u8   version (1)
 *          1  u8   columns present: bit0 seq, bit1 mag, bit2 temp
 *          2  u16  reserved (0)
 *          4  u32  n, the number of readings
 *          8  f64  ts[n]                      ms since the epoch, hub clock
 *             f32  imu[6n]                    accel x y z (m/s^2), gyro x y z (rad/s), per reading
 *             f32  mag[3n]       if bit1      microtesla (0 where absent)
 *             f32  temp[n]       if bit2      degrees Celsius (0 where absent)
 *             u32  seq[n]        if bit0      (0 where absent)
 *             u8   bitmap[ceil(n/8)] per present optional column, in the order mag, temp, seq:
 *                  bit (i % 8) of byte (i / 8) is set when reading i has that field
 *
 * 32 bytes per reading without the optional fields, 52 with all of them, against ~200 as JSON.
 */
const VERSION = 1;
const HEADER_BYTES = 8;

if (endianness() !== 'LE') {
  // Typed-array views read the host's byte order; every hub (x86, ARM Raspberry Pi) is little-endian.
  throw new Error('the reading store needs a little-endian host');
}

interface Layout {
  columns: number;
  n: number;
  imu: number;
  mag: number;
  temp: number;
  seq: number;
  bitmaps: number;
  total: number;
}

function layoutOf(columns: number, n: number): Layout {
  const bitmapBytes = Math.ceil(n / 8);
  const imu = HEADER_BYTES + 8 * n;
  const mag = imu + 24 * n;
  const temp = mag + ((columns & HAS_MAG) !== 0 ? 12 * n : 0);
  const seq = temp + ((columns & HAS_TEMP) !== 0 ? 4 * n : 0);
  const bitmaps = seq + ((columns & HAS_SEQ) !== 0 ? 4 * n : 0);
  const optional = [HAS_MAG, HAS_TEMP, HAS_SEQ].filter((bit) => (columns & bit) !== 0).length;
  return { columns, n, imu, mag, temp, seq, bitmaps, total: bitmaps + optional * bitmapBytes };
}

/** Encoded size of samples [start, end) without encoding them. */
export function encodedBlockBytes(columns: SampleColumns, start = 0, end = columns.length): number {
  return layoutOf(columns.presentIn(start, end), end - start).total;
}

/** Encodes samples [start, end) of `source` (the caller sorts them by ts for a block). */
export function encodeBlock(source: SampleColumns, start = 0, end = source.length): Buffer {
  const n = end - start;
  const layout = layoutOf(source.presentIn(start, end), n);
  const bytes = Buffer.alloc(layout.total);
  const buffer = bytes.buffer;
  const base = bytes.byteOffset;
  // Buffer.alloc never takes memory from the shared pool: byteOffset is 0 and the views below are aligned.
  bytes[0] = VERSION;
  bytes[1] = layout.columns;
  bytes.writeUInt32LE(n, 4);
  new Float64Array(buffer, base + HEADER_BYTES, n).set(source.ts.subarray(start, end));
  new Float32Array(buffer, base + layout.imu, 6 * n).set(source.imu.subarray(6 * start, 6 * end));
  let bitmapAt = layout.bitmaps;
  const bitmapBytes = Math.ceil(n / 8);
  const writeBitmap = (bit: number): void => {
    for (let i = 0; i < n; i++) if ((source.present[start + i] & bit) !== 0) bytes[bitmapAt + (i >> 3)] |= 1 << (i & 7);
    bitmapAt += bitmapBytes;
  };
  if ((layout.columns & HAS_MAG) !== 0) {
    new Float32Array(buffer, base + layout.mag, 3 * n).set(source.mag.subarray(3 * start, 3 * end));
    writeBitmap(HAS_MAG);
  }
  if ((layout.columns & HAS_TEMP) !== 0) {
    new Float32Array(buffer, base + layout.temp, n).set(source.temp.subarray(start, end));
    writeBitmap(HAS_TEMP);
  }
  if ((layout.columns & HAS_SEQ) !== 0) {
    new Uint32Array(buffer, base + layout.seq, n).set(source.seq.subarray(start, end));
    writeBitmap(HAS_SEQ);
  }
  return bytes;
}

/** The number of readings in an encoded block, from its header alone. */
export function blockCount(block: Uint8Array): number {
  return new DataView(block.buffer, block.byteOffset, block.byteLength).getUint32(4, true);
}

/** The encoded size of the block that starts at `block[0]`, from its header. */
export function blockByteLength(block: Uint8Array): number {
  return layoutOf(block[1], blockCount(block)).total;
}

/** Decodes one block; `block` may be a view into a bigger buffer at any offset. */
export function decodeBlock(block: Uint8Array): SampleColumns {
  if (block[0] !== VERSION) throw new Error(`unknown block version ${block[0]}`);
  const n = blockCount(block);
  const layout = layoutOf(block[1], n);
  if (block.byteLength < layout.total) throw new Error('truncated block');
  // One copy into a fresh, aligned buffer; the typed arrays then view it without further copies.
  const aligned = new Uint8Array(layout.total);
  aligned.set(block.subarray(0, layout.total));
  const buffer = aligned.buffer;
  const columns = new SampleColumns(0);
  columns.ts = new Float64Array(buffer, HEADER_BYTES, n);
  columns.imu = new Float32Array(buffer, layout.imu, 6 * n);
  columns.mag = (layout.columns & HAS_MAG) !== 0 ? new Float32Array(buffer, layout.mag, 3 * n) : new Float32Array(3 * n);
  columns.temp = (layout.columns & HAS_TEMP) !== 0 ? new Float32Array(buffer, layout.temp, n) : new Float32Array(n);
  columns.seq = (layout.columns & HAS_SEQ) !== 0 ? new Uint32Array(buffer, layout.seq, n) : new Uint32Array(n);
  columns.present = new Uint8Array(n);
  let bitmapAt = layout.bitmaps;
  for (const bit of [HAS_MAG, HAS_TEMP, HAS_SEQ]) {
    if ((layout.columns & bit) === 0) continue;
    for (let i = 0; i < n; i++) if ((aligned[bitmapAt + (i >> 3)] & (1 << (i & 7))) !== 0) columns.present[i] |= bit;
    bitmapAt += Math.ceil(n / 8);
  }
  columns.length = n;
  return columns;
}
