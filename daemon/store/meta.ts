import type { Reading } from '../../drivers/reading.js';
import { StoreFormatError } from './errors.js';

/** Bumped whenever keys or values change incompatibly (keys.ts, block-codec.ts, journal-codec.ts). */
export const LAYOUT_VERSION = 1;

/**
 * Store meta, rewritten in every batch so that its counters always agree with the data beside them: the
 * byte size is known at open without a scan. `bytes` counts the keys and values of blocks, their time-index
 * entries and journal entries (not the few meta keys, nor LevelDB's own overhead and not-yet-compacted files).
 */
export interface StoreMeta {
  v: number;
  bytes: number;
  readings: number;
  blocks: number;
  journalEntries: number;
  nextJournalSeq: number;
  nextBlockSeq: number;
}

export function emptyStoreMeta(): StoreMeta {
  return { v: LAYOUT_VERSION, bytes: 0, readings: 0, blocks: 0, journalEntries: 0, nextJournalSeq: 1, nextBlockSeq: 1 };
}

export function encodeStoreMeta(meta: StoreMeta): Buffer {
  return Buffer.from(JSON.stringify(meta));
}

export function decodeStoreMeta(value: Buffer | undefined): StoreMeta {
  if (value === undefined) return emptyStoreMeta();
  const meta = JSON.parse(value.toString('utf8')) as StoreMeta;
  if (meta.v !== LAYOUT_VERSION) throw new StoreFormatError(meta.v, LAYOUT_VERSION);
  return meta;
}

/** Per device, written when its tail is compacted into blocks. */
export interface DeviceMeta {
  /** Journal entries up to this seq hold nothing of this device that is not in a block already. */
  compactedThrough: number;
  latest?: Reading;
}

export function encodeDeviceMeta(meta: DeviceMeta): Buffer {
  return Buffer.from(JSON.stringify(meta));
}

export function decodeDeviceMeta(value: Buffer): DeviceMeta {
  return JSON.parse(value.toString('utf8')) as DeviceMeta;
}

/** One block as the time index describes it: enough for retention to ask the policy and to account for it. */
export interface BlockEntry {
  deviceId: string;
  blockSeq: number;
  firstTs: number;
  lastTs: number;
  count: number;
  /** Bytes of the block's key and value plus its index entry. */
  bytes: number;
}

export function encodeIndexValue(entry: BlockEntry): Buffer {
  return Buffer.from(JSON.stringify({ d: entry.deviceId, f: entry.firstTs, l: entry.lastTs, n: entry.count, b: entry.bytes }));
}

export function decodeIndexValue(blockSeq: number, value: Buffer): BlockEntry {
  const raw = JSON.parse(value.toString('utf8')) as { d: string; f: number; l: number; n: number; b: number };
  return { deviceId: raw.d, blockSeq, firstTs: raw.f, lastTs: raw.l, count: raw.n, bytes: raw.b };
}
