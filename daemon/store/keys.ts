/**
 * Key layout of the reading store (LevelDB, keys are UTF-8 strings, values binary).
 *
 *   b!<deviceId>!<firstTs:15>!<blockSeq:12>  a block: up to MAX_BLOCK_SAMPLES readings of one device, sorted by
 *                                            ts, spanning at most MAX_BLOCK_SPAN_MS (block-codec.ts). Keys sort by
 *                                            device, then first timestamp, so one device's time range is one scan
 *                                            that starts MAX_BLOCK_SPAN_MS before `from`.
 *   t!<firstTs:15>!<blockSeq:12>             time index of every block (JSON {d, f, l, n, b}: device, first and
 *                                            last ts, count, bytes), so retention finds the oldest blocks of all
 *                                            devices without a scan of the data.
 *   j!<journalSeq:12>                        a journal entry: every reading of one group commit, several devices
 *                                            (journal-codec.ts). Deleted once each of its devices is compacted.
 *   d!<deviceId>                             per-device meta (JSON): newest reading, journal seq compacted through.
 *   m!state                                  store meta (JSON): layout version, counters, next sequence numbers.
 *
 * Numbers are zero-padded decimals so that string order is numeric order. '!' sorts below every character a
 * device id may hold ([A-Za-z0-9_.:-]), so `b!dev!` never matches the blocks of `dev2`.
 */

/** A block never covers more time than this; a range scan starts this far before `from`. */
export const MAX_BLOCK_SPAN_MS = 60_000;
/** Readings in one block at most; a bigger compaction is cut into several blocks. */
export const MAX_BLOCK_SAMPLES = 4096;

const TS_DIGITS = 15;
const SEQ_DIGITS = 12;
const MAX_KEY_TS = 10 ** TS_DIGITS - 1;

export const STATE_KEY = 'm!state';
export const JOURNAL_RANGE = { gt: 'j!', lt: 'j"' } as const;
export const DEVICE_META_RANGE = { gt: 'd!', lt: 'd"' } as const;
export const TIME_INDEX_RANGE = { gt: 't!', lt: 't"' } as const;

/** The timestamp as it appears in a key: whole milliseconds, clamped to what the fixed width holds. */
export function keyTs(ts: number): number {
  return Math.min(MAX_KEY_TS, Math.max(0, Math.floor(ts)));
}

function pad(value: number, digits: number): string {
  return String(value).padStart(digits, '0');
}

export function blockKey(deviceId: string, firstTs: number, blockSeq: number): string {
  return `b!${deviceId}!${pad(keyTs(firstTs), TS_DIGITS)}!${pad(blockSeq, SEQ_DIGITS)}`;
}

export function timeIndexKey(firstTs: number, blockSeq: number): string {
  return `t!${pad(keyTs(firstTs), TS_DIGITS)}!${pad(blockSeq, SEQ_DIGITS)}`;
}

export function journalKey(journalSeq: number): string {
  return `j!${pad(journalSeq, SEQ_DIGITS)}`;
}

export function deviceMetaKey(deviceId: string): string {
  return `d!${deviceId}`;
}

export function deviceIdOfMetaKey(key: string): string {
  return key.slice(2);
}

export function journalSeqOfKey(key: string): number {
  return Number(key.slice(2));
}

/** Block key bounds of one device for blocks whose first timestamp may hold readings in [from, to). */
export function blockRange(deviceId: string, from: number, to: number): { gte: string; lt: string } {
  const prefix = `b!${deviceId}!`;
  const gte = `${prefix}${pad(keyTs(from - MAX_BLOCK_SPAN_MS), TS_DIGITS)}`;
  // A block whose first ts is below `to` has floor(first) < ceil(to); past the key width, take the whole device.
  const lt = Number.isFinite(to) && Math.ceil(to) <= MAX_KEY_TS ? `${prefix}${pad(Math.max(0, Math.ceil(to)), TS_DIGITS)}` : `b!${deviceId}"`;
  return { gte, lt };
}

export interface ParsedBlockKey {
  keyTs: number;
  blockSeq: number;
}

/** The first-ts and sequence fields at the end of a block or time-index key. */
export function parseBlockKeyTail(key: string): ParsedBlockKey {
  const seqStart = key.length - SEQ_DIGITS;
  const tsStart = seqStart - 1 - TS_DIGITS;
  return { keyTs: Number(key.slice(tsStart, seqStart - 1)), blockSeq: Number(key.slice(seqStart)) };
}
