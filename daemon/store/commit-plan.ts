import { encodeBlock } from './block-codec.js';
import type { BatchOp, CommitPlan } from './group-commit.js';
import { encodeJournalEntry, type JournalSegment } from './journal-codec.js';
import { MAX_BLOCK_SAMPLES, MAX_BLOCK_SPAN_MS, STATE_KEY, blockKey, deviceMetaKey, journalKey, timeIndexKey } from './keys.js';
import { encodeDeviceMeta, encodeIndexValue, encodeStoreMeta, type BlockEntry } from './meta.js';
import { SampleColumns } from './sample-columns.js';
import type { StoreState } from './store-state.js';

const INDEX_VALUE_BYTES = 64;

export type WriteRequest =
  | { kind: 'append'; groups: Map<string, SampleColumns>; count: number }
  | { kind: 'delete'; entries: BlockEntry[] };

export interface PlanOptions {
  /** A device's tail is compacted into blocks once it holds this many readings. */
  blockSamples: number;
  now: number;
}

/**
 * Builds one atomic batch from the waiting requests and the compactions that fell due:
 * - readings of devices whose tail stays small go into one journal entry (one put for the whole batch);
 * - a device whose tail reaches `blockSamples` (or is due by age) has its tail plus its new readings written
 *   as blocks, its journal references released (an entry nobody references any more is deleted), and its
 *   device meta updated;
 * - retention deletes blocks and their index entries;
 * - the store meta with the new counters goes last.
 * Nothing in memory changes until apply(), which the writer calls once the batch is durable.
 */
export function planCommit(state: StoreState, requests: readonly WriteRequest[], options: PlanOptions): CommitPlan {
  const ops: BatchOp[] = [];
  const meta = { ...state.meta };
  const dueAtPlan = [...state.dueForCompaction];
  const incoming = mergeAppends(requests);
  const toJournal: JournalSegment[] = [];
  const toBlocks = new Map<string, SampleColumns>();

  for (const [deviceId, columns] of incoming) {
    const tail = state.tails.get(deviceId);
    const tailLength = tail?.columns.length ?? 0;
    meta.readings += columns.length;
    if (tailLength + columns.length >= options.blockSamples || state.dueForCompaction.has(deviceId)) {
      const all = new SampleColumns(tailLength + columns.length);
      if (tail) all.appendFrom(tail.columns);
      all.appendFrom(columns);
      toBlocks.set(deviceId, all);
    } else {
      toJournal.push({ deviceId, columns });
    }
  }
  for (const deviceId of state.dueForCompaction) {
    const tail = state.tails.get(deviceId);
    if (!toBlocks.has(deviceId) && !incoming.has(deviceId) && tail && tail.columns.length > 0) {
      const copy = new SampleColumns(tail.columns.length);
      copy.appendFrom(tail.columns);
      toBlocks.set(deviceId, copy);
    }
  }

  let journalSeq: number | undefined;
  let journalBytes = 0;
  if (toJournal.length > 0) {
    journalSeq = meta.nextJournalSeq++;
    const key = journalKey(journalSeq);
    const value = encodeJournalEntry(toJournal);
    journalBytes = key.length + value.length;
    ops.push({ type: 'put', key, value });
    meta.bytes += journalBytes;
    meta.journalEntries += 1;
  }

  const releases = new Map<number, number>();
  const compactedMeta = new Map<string, { compactedThrough: number }>();
  for (const [deviceId, all] of toBlocks) {
    const sorted = all.isSortedByTs() ? all : all.sortedByTs();
    for (const [start, end] of blockBounds(sorted)) {
      const entry = writeBlock(ops, deviceId, sorted, start, end, meta.nextBlockSeq++);
      meta.bytes += entry.bytes;
      meta.blocks += 1;
    }
    for (const seq of state.tails.get(deviceId)?.journalSeqs ?? []) releases.set(seq, (releases.get(seq) ?? 0) + 1);
    // Every journal entry up to the newest one allocated holds nothing more of this device outside its blocks.
    const compacted = { compactedThrough: meta.nextJournalSeq - 1 };
    compactedMeta.set(deviceId, compacted);
    const newest = sorted.newestIndex();
    const candidate = sorted.reading(newest, deviceId);
    const known = state.latest.get(deviceId);
    const latest = known && known.ts > candidate.ts ? known : candidate;
    ops.push({ type: 'put', key: deviceMetaKey(deviceId), value: encodeDeviceMeta({ ...compacted, latest }) });
  }

  const freedJournal: number[] = [];
  for (const [seq, count] of releases) {
    const ref = state.journal.get(seq);
    if (!ref || ref.refs > count) continue;
    freedJournal.push(seq);
    ops.push({ type: 'del', key: journalKey(seq) });
    meta.bytes -= ref.bytes;
    meta.journalEntries -= 1;
  }

  for (const request of requests) {
    if (request.kind !== 'delete') continue;
    for (const entry of request.entries) {
      ops.push({ type: 'del', key: blockKey(entry.deviceId, entry.firstTs, entry.blockSeq) });
      ops.push({ type: 'del', key: timeIndexKey(entry.firstTs, entry.blockSeq) });
      meta.bytes -= entry.bytes;
      meta.blocks -= 1;
      meta.readings -= entry.count;
    }
  }

  if (ops.length > 0) ops.push({ type: 'put', key: STATE_KEY, value: encodeStoreMeta(meta) });

  const apply = (): void => {
    state.meta = meta;
    state.committedBlockSeq = meta.nextBlockSeq - 1;
    if (journalSeq !== undefined) {
      state.journal.set(journalSeq, { refs: toJournal.length, bytes: journalBytes });
      for (const { deviceId, columns } of toJournal) {
        let tail = state.tails.get(deviceId);
        if (!tail) {
          // Room for a whole block (a tail is compacted before it reaches blockSamples), so it never grows.
          tail = { columns: new SampleColumns(Math.max(options.blockSamples, columns.length)), journalSeqs: [], since: options.now };
          state.tails.set(deviceId, tail);
        } else if (tail.columns.length === 0) {
          tail.since = options.now;
        }
        tail.columns.appendFrom(columns);
        tail.journalSeqs.push(journalSeq);
      }
    }
    for (const [seq, count] of releases) {
      const ref = state.journal.get(seq);
      if (ref) ref.refs -= count;
    }
    for (const seq of freedJournal) state.journal.delete(seq);
    for (const [deviceId, compacted] of compactedMeta) {
      // Emptied, and its arrays take the device's next readings (readers get copies: StoreState.tailView). A
      // fresh set of columns per block lived for seconds, long enough to be promoted, and at 50 devices at
      // 100 Hz piled up as old-generation garbage (off-heap typed arrays) between full collections: the
      // daemon's RSS climbed by about 0.3 MB/s (bench/soak). ReadingStore drops tails that stay empty.
      const tail = state.tails.get(deviceId);
      if (tail) {
        tail.columns.clear();
        tail.journalSeqs = [];
        tail.since = options.now;
      }
      state.deviceMeta.set(deviceId, compacted);
    }
    for (const deviceId of dueAtPlan) state.dueForCompaction.delete(deviceId);
    for (const [deviceId, columns] of incoming) state.offerLatest(columns.reading(columns.newestIndex(), deviceId));
  };
  return { ops, apply };
}

/** The appended readings of all requests, per device, in arrival order. */
function mergeAppends(requests: readonly WriteRequest[]): Map<string, SampleColumns> {
  const merged = new Map<string, SampleColumns>();
  const owned = new Set<string>();
  for (const request of requests) {
    if (request.kind !== 'append') continue;
    for (const [deviceId, columns] of request.groups) {
      const existing = merged.get(deviceId);
      if (!existing) {
        merged.set(deviceId, columns);
      } else if (owned.has(deviceId)) {
        existing.appendFrom(columns);
      } else {
        // Copy before appending: the first request's columns are not ours to grow.
        const copy = new SampleColumns(existing.length + columns.length);
        copy.appendFrom(existing);
        copy.appendFrom(columns);
        merged.set(deviceId, copy);
        owned.add(deviceId);
      }
    }
  }
  return merged;
}

/** Cuts sorted samples into blocks of at most MAX_BLOCK_SAMPLES readings spanning at most MAX_BLOCK_SPAN_MS. */
export function blockBounds(sorted: SampleColumns): Array<[number, number]> {
  const bounds: Array<[number, number]> = [];
  let start = 0;
  for (let i = 1; i <= sorted.length; i++) {
    const cut = i === sorted.length || i - start >= MAX_BLOCK_SAMPLES || sorted.ts[i] - sorted.ts[start] > MAX_BLOCK_SPAN_MS;
    if (cut) {
      bounds.push([start, i]);
      start = i;
    }
  }
  return bounds;
}

function writeBlock(ops: BatchOp[], deviceId: string, sorted: SampleColumns, start: number, end: number, blockSeq: number): BlockEntry {
  const firstTs = sorted.ts[start];
  const key = blockKey(deviceId, firstTs, blockSeq);
  const value = encodeBlock(sorted, start, end);
  const indexKey = timeIndexKey(firstTs, blockSeq);
  // What the block costs in the store; the index value is counted at a fixed estimate, since it records this very figure.
  const bytes = key.length + value.length + indexKey.length + INDEX_VALUE_BYTES;
  const entry: BlockEntry = { deviceId, blockSeq, firstTs, lastTs: sorted.ts[end - 1], count: end - start, bytes };
  ops.push({ type: 'put', key, value });
  ops.push({ type: 'put', key: indexKey, value: encodeIndexValue(entry) });
  return entry;
}
