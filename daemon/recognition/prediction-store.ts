import { Level } from 'level';
import type { Logger } from 'pino';
import type { Clock, Timer } from '../clock.js';
import type { Prediction } from '../sessions/types.js';
import {
  DEVICE_RANGE,
  MODEL_TABLE_RANGE,
  SESSION_RANGE,
  deviceKey,
  devicePrefixAt,
  deviceRange,
  encodePrediction,
  labelTableId,
  labelTableOf,
  modelTableKey,
  predictionKey,
  sessionKey,
  tableFits,
  type LabelTable,
  type SessionSpan,
} from './prediction-codec.js';
import { decodePredictionCursor, encodePredictionCursor, mergeDevicePages, scanDevice } from './prediction-page.js';
import { RateLimitedLog } from './rate-limited-log.js';

export const DEFAULT_PREDICTION_RETENTION_MS = 7 * 24 * 3600_000;
export const PREDICTION_LIST_LIMIT_MAX = 10_000;
const FLUSH_INTERVAL_MS = 100;
const FLUSH_ITEMS = 500;
/** While a write is slow (disk stalled), at most this many predictions wait; older ones are dropped. */
const MAX_PENDING = 50_000;
const RETENTION_INTERVAL_MS = 10 * 60_000;
const SESSION_CACHE_MAX = 1000;
const MAX_MODEL_TABLES = 65_535;

export interface PredictionStoreOptions {
  /** `<dataDir>/predictions` */
  dir: string;
  log: Logger;
  clock: Clock;
  /** Predictions whose window started longer ago than this are deleted (7 days by default). */
  retentionMs?: number;
}

export interface PredictionQuery {
  deviceId?: string;
  sessionId?: string;
  /** windowStart >= from (ms) */
  from?: number;
  /** windowStart < to (ms) */
  to?: number;
  limit: number;
  cursor?: string;
}

export interface PredictionPage {
  items: Prediction[];
  nextCursor: string | null;
}

export interface PredictionStoreStats {
  /** Predictions written since open. */
  written: number;
  /** Predictions dropped (write failures, or too many waiting for a stalled disk). */
  dropped: number;
  pending: number;
}

/**
 * Window predictions (SPEC section 7), in their own LevelDB. Nobody waits for a prediction to be durable,
 * so writes go through a small write-behind buffer flushed every FLUSH_INTERVAL_MS or FLUSH_ITEMS, and on
 * close. Bounded by age: a retention pass on an interval deletes windows older than `retentionMs`.
 * Layout: prediction-codec.ts.
 */
export class PredictionStore {
  private readonly db: Level<string, Buffer>;
  private readonly log: Logger;
  private readonly warnings: RateLimitedLog;
  private readonly clock: Clock;
  private readonly retentionMs: number;
  private pending: Prediction[] = [];
  private flushTimer: Timer | undefined;
  private retentionTimer: Timer | undefined;
  private writing: Promise<void> = Promise.resolve();
  private retentionRun: Promise<void> | undefined;
  private readonly tables: LabelTable[] = [];
  private readonly tableIndex = new Map<string, number>();
  private readonly devices = new Set<string>();
  /** Table entries and devices not yet on disk: written with every batch until one succeeds. */
  private readonly unsavedTables = new Set<number>();
  private readonly unsavedDevices = new Set<string>();
  /** Recently written sessions' spans, most recently used last. */
  private readonly spans = new Map<string, SessionSpan>();
  private opened = false;
  private closed = false;
  private readonly counters: PredictionStoreStats = { written: 0, dropped: 0, pending: 0 };

  constructor(options: PredictionStoreOptions) {
    this.log = options.log;
    this.clock = options.clock;
    this.warnings = new RateLimitedLog(options.log, options.clock);
    this.retentionMs = options.retentionMs ?? DEFAULT_PREDICTION_RETENTION_MS;
    this.db = new Level<string, Buffer>(options.dir, { valueEncoding: 'buffer' });
  }

  async open(): Promise<void> {
    await this.db.open();
    for await (const [key, value] of this.db.iterator(MODEL_TABLE_RANGE)) {
      const { v, l, n } = JSON.parse(value.toString('utf8')) as { v: string; l: string[]; n: number };
      const index = Number(key.slice(2));
      this.tables[index] = { version: v, labels: l, probabilityCount: n };
      this.tableIndex.set(labelTableId(this.tables[index]), index);
    }
    for await (const key of this.db.keys(DEVICE_RANGE)) this.devices.add(key.slice(2));
    this.opened = true;
    this.retentionTimer = this.clock.setInterval(() => this.startRetention(), RETENTION_INTERVAL_MS);
    this.retentionTimer.unref?.();
    // not awaited: after a long downtime there can be a lot to delete, and start-up must stay quick
    this.startRetention();
  }

  /** Writes what is buffered, then closes LevelDB. */
  async close(): Promise<void> {
    if (this.closed || !this.opened) return;
    this.closed = true;
    this.clock.clearInterval(this.retentionTimer);
    this.clock.clearTimeout(this.flushTimer);
    await this.flush();
    await this.retentionRun;
    await this.db.close();
  }

  /** Buffers a prediction; it is written within FLUSH_INTERVAL_MS. Never throws. */
  add(prediction: Prediction): void {
    if (this.closed || !this.opened) {
      this.counters.dropped++;
      return;
    }
    this.pending.push(prediction);
    if (this.pending.length > MAX_PENDING) {
      this.counters.dropped += this.pending.length - MAX_PENDING;
      this.pending.splice(0, this.pending.length - MAX_PENDING);
    }
    if (this.pending.length >= FLUSH_ITEMS) {
      void this.flush();
    } else if (!this.flushTimer) {
      this.flushTimer = this.clock.setTimeout(() => {
        this.flushTimer = undefined;
        void this.flush();
      }, FLUSH_INTERVAL_MS);
      this.flushTimer.unref?.();
    }
  }

  /** Resolves once everything added so far is written (or dropped after a write error). */
  flush(): Promise<void> {
    this.clock.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.length === 0) return this.writing;
    const batch = this.pending;
    this.pending = [];
    this.writing = this.writing.then(() => this.write(batch));
    return this.writing;
  }

  stats(): PredictionStoreStats {
    return { ...this.counters, pending: this.pending.length };
  }

  /** Oldest first (by window start, then device), paged by cursor. */
  async list(query: PredictionQuery): Promise<PredictionPage> {
    await this.flush();
    const limit = Math.min(PREDICTION_LIST_LIMIT_MAX, Math.max(1, Math.floor(query.limit) || 1));
    const cursor = query.cursor === undefined ? undefined : decodePredictionCursor(query.cursor);
    let from = query.from ?? 0;
    let to = query.to ?? Infinity;
    let devices: string[];
    let sessionId: string | undefined;
    if (query.sessionId !== undefined) {
      const span = await this.span(query.sessionId);
      if (!span || (query.deviceId !== undefined && query.deviceId !== span.d)) return { items: [], nextCursor: null };
      sessionId = query.sessionId;
      devices = [span.d];
      from = Math.max(from, span.f);
      to = Math.min(to, span.l + 1);
    } else {
      devices = query.deviceId !== undefined ? [query.deviceId] : [...this.devices].sort();
    }
    if (!(from < to)) return { items: [], nextCursor: null };
    const pages = devices.map((deviceId) => scanDevice(this.db, this.tables, deviceId, { from, to, cursor, sessionId }));
    const rows = await mergeDevicePages(pages, limit + 1);
    const items = rows.slice(0, limit).map((row) => row.decode());
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return { items, nextCursor: last ? encodePredictionCursor({ t: last.t, d: last.deviceId }) : null };
  }

  /** Deletes predictions whose window started before now - retention, and sessions wholly before that. */
  async runRetention(): Promise<void> {
    await this.retentionRun;
    this.startRetention();
    await this.retentionRun;
  }

  private startRetention(): void {
    if (this.closed || this.retentionRun) return;
    this.retentionRun = this.deleteExpired().finally(() => (this.retentionRun = undefined));
  }

  private async deleteExpired(): Promise<void> {
    const cutoff = this.clock.now() - this.retentionMs;
    try {
      for (const deviceId of this.devices) {
        await this.db.clear({ gte: deviceRange(deviceId).gt, lt: devicePrefixAt(deviceId, cutoff) });
      }
      const stale: string[] = [];
      for await (const [key, value] of this.db.iterator(SESSION_RANGE)) {
        if ((JSON.parse(value.toString('utf8')) as SessionSpan).l < cutoff) stale.push(key);
      }
      if (stale.length > 0) await this.db.batch(stale.map((key) => ({ type: 'del' as const, key })));
      for (const key of stale) this.spans.delete(key.slice(2));
    } catch (err) {
      if (!this.closed) this.log.warn({ err }, 'prediction retention failed; trying again later');
    }
  }

  private async write(batch: Prediction[]): Promise<void> {
    let stored = 0;
    try {
      const ops: { type: 'put'; key: string; value: Buffer }[] = [];
      const put = (key: string, value: string | Buffer) => ops.push({ type: 'put', key, value: typeof value === 'string' ? Buffer.from(value) : value });
      const touched = new Set<string>();
      for (const p of batch) {
        const index = this.tableFor(p);
        if (index === undefined) {
          this.counters.dropped++;
          continue;
        }
        if (!this.devices.has(p.deviceId)) {
          this.devices.add(p.deviceId);
          this.unsavedDevices.add(p.deviceId);
        }
        put(predictionKey(p.deviceId, p.windowStart), encodePrediction(p, index, this.tables[index]));
        stored++;
        if (p.sessionId) {
          const span = (await this.span(p.sessionId)) ?? { d: p.deviceId, f: p.windowStart, l: p.windowStart };
          span.f = Math.min(span.f, p.windowStart);
          span.l = Math.max(span.l, p.windowStart);
          this.rememberSpan(p.sessionId, span);
          touched.add(p.sessionId);
        }
      }
      for (const id of touched) put(sessionKey(id), JSON.stringify(this.spans.get(id)));
      for (const deviceId of this.unsavedDevices) put(deviceKey(deviceId), '');
      for (const index of this.unsavedTables) {
        const table = this.tables[index];
        put(modelTableKey(index), JSON.stringify({ v: table.version, l: table.labels, n: table.probabilityCount }));
      }
      const savedTables = [...this.unsavedTables];
      const savedDevices = [...this.unsavedDevices];
      await this.db.batch(ops);
      for (const index of savedTables) this.unsavedTables.delete(index);
      for (const deviceId of savedDevices) this.unsavedDevices.delete(deviceId);
      this.counters.written += stored;
    } catch (err) {
      this.counters.dropped += stored;
      this.warnings.warn('write', { err, predictions: batch.length }, 'could not write predictions; dropped them');
    }
  }

  private tableFor(p: Prediction): number | undefined {
    const last = this.tables.length - 1;
    if (last >= 0 && tableFits(this.tables[last], p)) return last;
    const table = labelTableOf(p);
    const id = labelTableId(table);
    const known = this.tableIndex.get(id);
    if (known !== undefined) return known;
    if (this.tables.length >= MAX_MODEL_TABLES) return undefined;
    const index = this.tables.length;
    this.tables.push(table);
    this.tableIndex.set(id, index);
    this.unsavedTables.add(index);
    return index;
  }

  private async span(sessionId: string): Promise<SessionSpan | undefined> {
    const cached = this.spans.get(sessionId);
    if (cached) return cached;
    const value = await this.db.get(sessionKey(sessionId));
    if (value === undefined) return undefined;
    const span = JSON.parse(value.toString('utf8')) as SessionSpan;
    this.rememberSpan(sessionId, span);
    return span;
  }

  private rememberSpan(sessionId: string, span: SessionSpan): void {
    this.spans.delete(sessionId);
    this.spans.set(sessionId, span);
    if (this.spans.size > SESSION_CACHE_MAX) this.spans.delete(this.spans.keys().next().value!);
  }
}
