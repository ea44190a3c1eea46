import type { Prediction } from '../sessions/types.js';

/**
 * Key and value layout of the prediction store (LevelDB under `<dataDir>/predictions`).
 *
 *   p!<deviceId>!<windowStart:15>   one window's prediction (binary value below). One device's time range is
 *                                   one range scan; a second prediction for the same device and start ms
 *                                   replaces the first.
 *   s!<sessionId>                   JSON {d, f, l}: the session's device and first/last window start, so a
 *                                   session's predictions are one range scan of its device.
 *   d!<deviceId>                    empty: the devices that have predictions (merged listing, retention).
 *   m!<index:6>                     JSON {v, k}: a model version and its label table (see below).
 *
 * Values are compact because there are many (at 50 devices, a window every 1.28 s is ~3.4 M a day): the
 * model version and label names are stored once per model in the `m!` table and referenced by index.
 *
 *   u8 format (=1) | f64 windowStart | f32 windowEnd - windowStart | u16 model index | u8 label index
 *   | f32 confidence | u8 n | n x f32 probabilities (the first n labels of the table, in order)
 *   | u8 sessionId length | sessionId (UTF-8)
 *
 * Probabilities and confidence are float32: the API shows them to ~7 digits, which is plenty for votes.
 */
export const FORMAT = 1;
const TS_DIGITS = 15;
const INDEX_DIGITS = 6;
const MAX_KEY_TS = 10 ** TS_DIGITS - 1;
const MAX_SESSION_ID_BYTES = 255;

export const DEVICE_RANGE = { gt: 'd!', lt: 'd"' } as const;
export const MODEL_TABLE_RANGE = { gt: 'm!', lt: 'm"' } as const;
export const SESSION_RANGE = { gt: 's!', lt: 's"' } as const;

/** A model version with the labels its predictions use: probability keys first, then any other label. */
export interface LabelTable {
  version: string;
  /** Labels; the first `probabilityCount` are the keys of `probabilities`, in their order. */
  labels: string[];
  probabilityCount: number;
}

export interface SessionSpan {
  /** deviceId */
  d: string;
  /** first window start (ms) */
  f: number;
  /** last window start (ms) */
  l: number;
}

export function keyTs(ts: number): number {
  return Math.min(MAX_KEY_TS, Math.max(0, Math.floor(ts)));
}

const pad = (value: number, digits: number) => String(value).padStart(digits, '0');

export function predictionKey(deviceId: string, windowStart: number): string {
  return `p!${deviceId}!${pad(keyTs(windowStart), TS_DIGITS)}`;
}

/** The first key of `deviceId` at or after time `ts` (ms). */
export function devicePrefixAt(deviceId: string, ts: number): string {
  return `p!${deviceId}!${pad(keyTs(ts), TS_DIGITS)}`;
}

export function deviceRange(deviceId: string): { gt: string; lt: string } {
  return { gt: `p!${deviceId}!`, lt: `p!${deviceId}"` };
}

export function keyTsOf(key: string): number {
  return Number(key.slice(key.length - TS_DIGITS));
}

export function deviceOfPredictionKey(key: string): string {
  return key.slice(2, key.length - TS_DIGITS - 1);
}

export const sessionKey = (sessionId: string) => `s!${sessionId}`;
export const deviceKey = (deviceId: string) => `d!${deviceId}`;
export const modelTableKey = (index: number) => `m!${pad(index, INDEX_DIGITS)}`;

/** The label table a prediction needs: its probability keys in order, plus its label when that is not one. */
export function labelTableOf(prediction: Prediction): LabelTable {
  const keys = Object.keys(prediction.probabilities);
  const labels = keys.includes(prediction.label) ? keys : [...keys, prediction.label];
  return { version: prediction.modelVersion, labels, probabilityCount: keys.length };
}

export function labelTableId(table: LabelTable): string {
  return `${table.version}\u0000${table.probabilityCount}\u0000${table.labels.join('\u0000')}`;
}

/** Whether `table` can encode `prediction` (same model, same probability keys, its label present). */
export function tableFits(table: LabelTable, prediction: Prediction): boolean {
  if (table.version !== prediction.modelVersion || !table.labels.includes(prediction.label)) return false;
  let n = 0;
  for (const key in prediction.probabilities) {
    if (table.labels[n] !== key) return false;
    n++;
  }
  return n === table.probabilityCount;
}

export function encodePrediction(prediction: Prediction, modelIndex: number, table: LabelTable): Buffer {
  const session = prediction.sessionId ? Buffer.from(prediction.sessionId, 'utf8') : undefined;
  if (session && session.length > MAX_SESSION_ID_BYTES) throw new RangeError('sessionId longer than 255 bytes');
  const n = table.probabilityCount;
  const out = Buffer.allocUnsafe(1 + 8 + 4 + 2 + 1 + 4 + 1 + 4 * n + 1 + (session?.length ?? 0));
  let o = out.writeUInt8(FORMAT, 0);
  o = out.writeDoubleLE(prediction.windowStart, o);
  o = out.writeFloatLE(prediction.windowEnd - prediction.windowStart, o);
  o = out.writeUInt16LE(modelIndex, o);
  o = out.writeUInt8(table.labels.indexOf(prediction.label), o);
  o = out.writeFloatLE(prediction.confidence, o);
  o = out.writeUInt8(n, o);
  for (let k = 0; k < n; k++) o = out.writeFloatLE(prediction.probabilities[table.labels[k]] ?? 0, o);
  o = out.writeUInt8(session?.length ?? 0, o);
  if (session) session.copy(out, o);
  return out;
}

export interface DecodedValue {
  modelIndex: number;
  sessionId?: string;
  decode(deviceId: string, table: LabelTable): Prediction;
}

/** Reads the value's header; the full prediction is only built (decode) for the rows a page returns. */
export function readValue(value: Buffer): DecodedValue {
  if (value.length < 21 || value.readUInt8(0) !== FORMAT) throw new RangeError('not a prediction value');
  const modelIndex = value.readUInt16LE(13);
  const n = value.readUInt8(20);
  const sessionOffset = 21 + 4 * n;
  const sessionLength = value.readUInt8(sessionOffset);
  const sessionId = sessionLength > 0 ? value.toString('utf8', sessionOffset + 1, sessionOffset + 1 + sessionLength) : undefined;
  return {
    modelIndex,
    sessionId,
    decode(deviceId, table) {
      const windowStart = value.readDoubleLE(1);
      const probabilities: Record<string, number> = {};
      for (let k = 0; k < n; k++) probabilities[table.labels[k] ?? `class_${k}`] = value.readFloatLE(21 + 4 * k);
      return {
        deviceId,
        ...(sessionId ? { sessionId } : {}),
        windowStart,
        windowEnd: windowStart + value.readFloatLE(9),
        label: table.labels[value.readUInt8(15)] ?? 'unknown',
        confidence: value.readFloatLE(16),
        probabilities,
        modelVersion: table.version,
      };
    },
  };
}
