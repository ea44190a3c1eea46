import { TIME_PREFIX, decodeCursor, encodeCursor, timeKey, type SessionRecord } from './session-keys.js';
import type { SessionPage } from './session-store.js';
import type { Session } from './types.js';

/** The API's view: the record without its bookkeeping, and not sharing arrays with it. */
export function toSession(record: SessionRecord): Session {
  const { labelVersion: _labelVersion, origin: _origin, ...session } = record;
  return structuredClone(session);
}

/** undefined leaves the field, null removes it, a value is checked and set (a checker may answer undefined: remove). */
export function setOrClear<K extends 'notes' | 'athleteId' | 'candidates'>(
  record: SessionRecord,
  key: K,
  value: unknown,
  check: (value: unknown) => SessionRecord[K] | undefined,
): void {
  if (value === undefined) return;
  const checked = value === null ? undefined : check(value);
  if (checked === undefined) delete record[key];
  else record[key] = checked;
}

/** A page of the active sessions (held in memory), newest first, with the same cursors as the time index. */
export function activePage(active: SessionRecord[], query: { deviceId?: string; label?: string; limit: number; cursor?: string }): SessionPage<Session> {
  const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor, TIME_PREFIX);
  const matches = active
    .filter((r) => (query.deviceId === undefined || r.deviceId === query.deviceId) && (query.label === undefined || r.label === query.label))
    .map((record) => ({ key: timeKey(record), record }))
    .filter(({ key }) => before === undefined || key < before)
    .sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
  const page = matches.slice(0, query.limit);
  return { items: page.map(({ record }) => toSession(record)), nextCursor: matches.length > query.limit ? encodeCursor(page[page.length - 1].key) : null };
}
