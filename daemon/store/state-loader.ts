import type { Level } from 'level';
import { decodeJournalEntry } from './journal-codec.js';
import { DEVICE_META_RANGE, JOURNAL_RANGE, STATE_KEY, deviceIdOfMetaKey, journalSeqOfKey } from './keys.js';
import { decodeDeviceMeta, decodeStoreMeta, encodeStoreMeta } from './meta.js';
import { SampleColumns } from './sample-columns.js';
import { StoreState } from './store-state.js';

/**
 * Rebuilds the in-memory state at open from three small places, never from the blocks: the store meta (one
 * key), the device metas (one key per device) and the journal (what is not yet in blocks; bounded by the
 * tail size and age). This is what keeps start-up fast whatever the store's size.
 */
export async function loadState(db: Level<string, Buffer>, now: number): Promise<StoreState> {
  const state = new StoreState();
  state.meta = decodeStoreMeta(await db.get(STATE_KEY));
  state.committedBlockSeq = state.meta.nextBlockSeq - 1;

  for await (const [key, value] of db.iterator(DEVICE_META_RANGE)) {
    const deviceId = deviceIdOfMetaKey(key);
    const meta = decodeDeviceMeta(value);
    state.deviceMeta.set(deviceId, { compactedThrough: meta.compactedThrough });
    if (meta.latest) state.offerLatest(meta.latest);
  }

  const unreferenced: string[] = [];
  let unreferencedBytes = 0;
  for await (const [key, value] of db.iterator(JOURNAL_RANGE)) {
    const seq = journalSeqOfKey(key);
    let refs = 0;
    for (const { deviceId, columns } of decodeJournalEntry(value)) {
      // This device's part was compacted into blocks while other devices still needed the entry.
      if (seq <= (state.deviceMeta.get(deviceId)?.compactedThrough ?? 0)) continue;
      refs += 1;
      let tail = state.tails.get(deviceId);
      if (!tail) {
        tail = { columns: new SampleColumns(), journalSeqs: [], since: now };
        state.tails.set(deviceId, tail);
      }
      tail.columns.appendFrom(columns);
      tail.journalSeqs.push(seq);
      state.offerLatest(columns.reading(columns.newestIndex(), deviceId));
    }
    if (refs > 0) {
      state.journal.set(seq, { refs, bytes: key.length + value.length });
    } else {
      unreferenced.push(key);
      unreferencedBytes += key.length + value.length;
    }
  }

  if (unreferenced.length > 0) {
    // Not expected (entries are deleted with their last compaction), but harmless to clean up.
    state.meta = { ...state.meta, bytes: state.meta.bytes - unreferencedBytes, journalEntries: state.meta.journalEntries - unreferenced.length };
    await db.batch([
      ...unreferenced.map((key) => ({ type: 'del' as const, key })),
      { type: 'put' as const, key: STATE_KEY, value: encodeStoreMeta(state.meta) },
    ], { sync: true });
  }
  return state;
}
