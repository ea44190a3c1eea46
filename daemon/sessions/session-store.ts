import { Level } from 'level';
import type { Logger } from 'pino';
import {
  ACTIVE_PREFIX,
  PENDING_PREFIX,
  PREFIX_END,
  TIME_PREFIX,
  decodeCursor,
  devicePrefix,
  encodeCursor,
  idOfKey,
  keysOf,
  labelPrefix,
  primaryKey,
  type IndexEntry,
  type SessionRecord,
} from './session-keys.js';

export type { SessionRecord } from './session-keys.js';

export interface SessionListQuery {
  deviceId?: string;
  status?: 'active' | 'ended';
  label?: string;
  limit: number;
  /** The nextCursor of the previous page of the same query. */
  cursor?: string;
}

export interface SessionPage<T> {
  items: T[];
  nextCursor: string | null;
}

export interface SessionStoreOptions {
  /** `<dataDir>/sessions` */
  dir: string;
  log: Logger;
}

const ENTRIES_PER_FETCH = 256;

/**
 * Sessions on disk, in their own LevelDB (key layout: session-keys.ts). Every change of a session is one
 * atomic batch that rewrites the record and all its index entries, so a list never sees half a change.
 */
export class SessionStore {
  private readonly db: Level<string, string>;

  constructor(private readonly options: SessionStoreOptions) {
    this.db = new Level<string, string>(options.dir, { valueEncoding: 'utf8' });
  }

  /** Opens the database; returns the sessions the service keeps in memory (active, and labelled but unsynced). */
  async open(): Promise<{ active: SessionRecord[]; pending: SessionRecord[] }> {
    await this.db.open();
    const active = await this.records(ACTIVE_PREFIX);
    const pending = await this.records(PENDING_PREFIX);
    this.options.log.info({ dir: this.options.dir, active: active.length, pendingSync: pending.length }, 'session store open');
    return { active, pending };
  }

  async close(): Promise<void> {
    if (this.db.status === 'open' || this.db.status === 'opening') await this.db.close();
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const value = await this.db.get(primaryKey(id));
    return value === undefined ? undefined : (JSON.parse(value) as SessionRecord);
  }

  /**
   * Writes `next` (and drops the keys of `previous` it no longer has) in one batch. `sync` for changes a
   * client was told about; recognition's frequent updates skip the fsync.
   */
  async write(previous: SessionRecord | undefined, next: SessionRecord, sync: boolean): Promise<void> {
    const keys = keysOf(next);
    const ops: Array<{ type: 'put'; key: string; value: string } | { type: 'del'; key: string }> = [];
    if (previous) for (const key of keysOf(previous).keys()) if (!keys.has(key)) ops.push({ type: 'del', key });
    for (const [key, value] of keys) ops.push({ type: 'put', key, value });
    await this.db.batch(ops, { sync });
  }

  async remove(record: SessionRecord): Promise<void> {
    await this.db.batch([...keysOf(record).keys()].map((key) => ({ type: 'del' as const, key })), { sync: true });
  }

  /**
   * Newest first (by startedAt, then id): what an app showing recent sets wants. One range scan of the most
   * selective index (label, else device, else time); the other filters are checked on the index entries.
   */
  async list(query: SessionListQuery): Promise<SessionPage<SessionRecord>> {
    const prefix = query.label !== undefined ? labelPrefix(query.label) : query.deviceId !== undefined ? devicePrefix(query.deviceId) : TIME_PREFIX;
    const before = query.cursor === undefined ? prefix + PREFIX_END : decodeCursor(query.cursor, prefix);
    const status = query.status === undefined ? undefined : query.status === 'active' ? 'a' : 'e';
    const hits: string[] = [];
    const iterator = this.db.iterator({ gt: prefix, lt: before, reverse: true });
    try {
      while (hits.length <= query.limit) {
        const entries = await iterator.nextv(ENTRIES_PER_FETCH);
        if (entries.length === 0) break;
        for (const [key, value] of entries) {
          const entry = JSON.parse(value) as IndexEntry;
          if (query.deviceId !== undefined && entry.d !== query.deviceId) continue;
          if (status !== undefined && entry.s !== status) continue;
          if (query.label !== undefined && entry.l !== query.label) continue;
          hits.push(key);
          if (hits.length > query.limit) break;
        }
      }
    } finally {
      await iterator.close();
    }
    const page = hits.slice(0, query.limit);
    const values = await this.db.getMany(page.map((key) => primaryKey(idOfKey(key))));
    const items = values.filter((v): v is string => v !== undefined).map((v) => JSON.parse(v) as SessionRecord);
    return { items, nextCursor: hits.length > query.limit ? encodeCursor(page[page.length - 1]) : null };
  }

  /** Labelled sessions not yet synced, oldest first (active ones included). */
  pendingSync(limit = Infinity): Promise<SessionRecord[]> {
    return this.records(PENDING_PREFIX, limit);
  }

  private async records(prefix: string, limit = Infinity): Promise<SessionRecord[]> {
    const out: SessionRecord[] = [];
    for await (const value of this.db.values({ gt: prefix, lt: prefix + PREFIX_END, limit: Number.isFinite(limit) ? limit : -1 })) {
      out.push(JSON.parse(value) as SessionRecord);
    }
    return out;
  }
}
