import { Level } from 'level';
import type { Logger } from 'pino';
import type { Clock, Timer } from '../clock.js';
import { isDeviceId, type Reading } from '../../drivers/reading.js';
import { groupByDevice } from './append-groups.js';
import { planCommit, type WriteRequest } from './commit-plan.js';
import { decodeCursor } from './cursor.js';
import { scanDevice, type DeviceSnapshot } from './device-scan.js';
import { StoreClosedError, StoreFullError, errorOfFailedWrite } from './errors.js';
import { GroupCommitWriter } from './group-commit.js';
import { RangeStatsAccumulator, type RangeStats } from './range-stats.js';
import { readPage, type Page } from './read-page.js';
import { DELETE_OLDEST_POLICY, RETENTION_INTERVAL_MS, RetentionScheduler, type RetentionPolicy, type RetentionResult } from './retention.js';
import { loadState } from './state-loader.js';
import { StoreState } from './store-state.js';
import type { ReadQuery, ReadingStoreOptions, StoreStats } from './types.js';

export type { ReadQuery, ReadingStoreOptions, StoreStats } from './types.js';
export type { Page } from './read-page.js';
export type { RangeStats } from './range-stats.js';
export type { RetentionPolicy, RetentionResult } from './retention.js';
export { DELETE_OLDEST_POLICY } from './retention.js';

export const DEFAULT_MAX_BYTES = 2 * 1024 ** 3;
const HARD_MAX_RATIO = 1.5;
/** The most readings one read() returns. */
export const READ_LIMIT_MAX = 10_000;
const DEFAULT_BLOCK_SAMPLES = 256;
const DEFAULT_TAIL_MAX_AGE_MS = 30_000;
const TAIL_CHECK_INTERVAL_MS = 5_000;
const FULL_LOG_INTERVAL_MS = 60_000;
/** After a failed write, reopening LevelDB is tried again at most this often. */
const RECOVERY_RETRY_MS = 5_000;
/** Readings per batch at most, so that one batch never takes long. */
const MAX_BATCH_READINGS = 50_000;
/**
 * LevelDB's own memory (classic-level's defaults are an 8 MB block cache and a 4 MB write buffer, of which
 * there are two while a full one is written out). Reads are scans of whole blocks (export, sync, training)
 * that the OS page cache serves as well; a 1 MB write buffer still holds seconds of 50 devices at 100 Hz.
 */
const LEVELDB_CACHE_BYTES = 2 * 1024 * 1024;
const LEVELDB_WRITE_BUFFER_BYTES = 1024 * 1024;
/**
 * LevelDB's minimum (64 tables kept open). On a 64-bit system it reads open tables through mmap, and every
 * page read stays in the process's RSS until the table is closed: with the default (1,000 files of 2 MB),
 * reading a store back for sync or export would count up to the whole store as resident; with this, at
 * most 64 tables' worth (a scan of a 195 MB store of 100 tables: +195 MB of file-backed RSS, against +116 MB).
 */
const LEVELDB_MAX_OPEN_FILES = 74;

type Lifecycle = 'new' | 'opening' | 'open' | 'closing' | 'closed';

/**
 * The durable reading store (SPEC section 5). append() resolves once its readings are on disk (sync write);
 * appends that arrive while a batch is written go together into the next one. Each batch writes the new
 * readings as one journal entry; a device's recent readings also stay in memory (its tail) until there are
 * enough of them, or they are old enough, to be rewritten as a block of that device, sorted by time, in one
 * atomic batch that also drops the journal entries nobody needs any more. Opening replays only the journal.
 * Key and value layouts: keys.ts, block-codec.ts, journal-codec.ts.
 */
export class ReadingStore {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly maxBytes: number;
  private readonly hardMaxBytes: number;
  private readonly blockSamples: number;
  private readonly tailMaxAgeMs: number;
  private db: Level<string, Buffer>;
  private state = new StoreState();
  private lifecycle: Lifecycle = 'new';
  private readonly writer: GroupCommitWriter<WriteRequest>;
  private readonly retention: RetentionScheduler;
  private timers: Timer[] = [];
  private opening: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private failure: { error: Error; at: number } | undefined;
  private recovering: Promise<void> | undefined;
  private lastFullLogAt = -Infinity;
  private refusing = false;

  constructor(private readonly options: ReadingStoreOptions) {
    this.log = options.log;
    this.clock = options.clock;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.hardMaxBytes = Math.max(this.maxBytes, options.hardMaxBytes ?? Math.round(this.maxBytes * HARD_MAX_RATIO));
    this.blockSamples = options.blockSamples ?? DEFAULT_BLOCK_SAMPLES;
    this.tailMaxAgeMs = options.tailMaxAgeMs ?? DEFAULT_TAIL_MAX_AGE_MS;
    this.db = this.newDb();
    this.writer = new GroupCommitWriter<WriteRequest>({
      write: (ops) => this.db.batch(ops, { sync: true }),
      plan: (requests) => planCommit(this.state, requests, { blockSamples: this.blockSamples, now: this.clock.now() }),
      hasBackgroundWork: () => this.state.dueForCompaction.size > 0 && this.failure === undefined,
      weight: (request) => (request.kind === 'append' ? request.count : 0),
      maxWeightPerBatch: MAX_BATCH_READINGS,
      onWriteError: (err) => this.writeFailed(err),
      now: () => performance.now(),
    });
    this.retention = new RetentionScheduler(
      {
        log: this.log,
        clock: this.clock,
        maxBytes: this.maxBytes,
        index: () => this.db,
        bytes: () => this.state.meta.bytes,
        deleteBlocks: (entries) => this.writer.submit({ kind: 'delete', entries }),
        active: () => this.lifecycle === 'open' && this.failure === undefined,
      },
      options.retention ?? DELETE_OLDEST_POLICY,
    );
  }

  open(): Promise<void> {
    this.opening ??= this.doOpen();
    return this.opening;
  }

  /** Writes everything already appended, stops, and closes LevelDB. Safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  /** Resolves once everything appended so far, and any compaction that fell due, is written. */
  flush(): Promise<void> {
    return this.writer.drain();
  }

  /** Resolves once every reading is durably written; rejects (StoreFullError, ...) when none of them may be acknowledged. */
  async append(readings: readonly Reading[]): Promise<void> {
    if (this.lifecycle !== 'open') throw new StoreClosedError(this.lifecycle);
    if (this.failure) await this.recoverIfDue();
    if (this.state.meta.bytes >= this.hardMaxBytes) {
      this.refuseFull();
      throw new StoreFullError('the reading store is full (storage.hardMaxBytes): readings are refused until space is freed', {
        bytes: this.state.meta.bytes,
        hardMaxBytes: this.hardMaxBytes,
      });
    }
    if (this.refusing) {
      this.refusing = false;
      this.log.info({ bytes: this.state.meta.bytes, hardMaxBytes: this.hardMaxBytes }, 'reading store below hardMaxBytes again: accepting readings');
    }
    if (readings.length === 0) return;
    await this.writer.submit({ kind: 'append', groups: groupByDevice(readings), count: readings.length });
    this.retention.kick(false);
  }

  /** A page of readings, oldest first; without deviceId every device merged by (ts, deviceId). */
  async read(query: ReadQuery): Promise<Page> {
    await this.readable();
    const limit = Math.min(READ_LIMIT_MAX, Math.max(1, Math.floor(query.limit) || 1));
    const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
    const from = Math.max(timeOr(query.from, -Infinity), cursor?.t ?? -Infinity);
    const to = timeOr(query.to, Infinity);
    const ids = query.deviceId === undefined ? this.state.knownDevices() : [query.deviceId].filter(isDeviceId);
    const db = this.db;
    const devices = this.snapshot(ids).map((snapshot) => ({ deviceId: snapshot.deviceId, runs: scanDevice(db, snapshot, from, to) }));
    return readPage(devices, cursor, limit);
  }

  /**
   * One device's readings in [from, to), oldest first, in chunks (about a block each): for export, training
   * and sync. It sees the store as it was when iteration started; later appends are not included.
   */
  async *iterate(deviceId: string, from = -Infinity, to = Infinity): AsyncGenerator<Reading[], void, undefined> {
    await this.readable();
    if (!isDeviceId(deviceId)) return;
    yield* scanDevice(this.db, this.snapshot([deviceId])[0], timeOr(from, -Infinity), timeOr(to, Infinity));
  }

  /** Count, first/last ts and per-axis min/max/mean of a device's readings in [from, to). */
  async rangeStats(deviceId: string, from?: number, to?: number): Promise<RangeStats> {
    const stats = new RangeStatsAccumulator();
    for await (const chunk of this.iterate(deviceId, from, to)) stats.add(chunk);
    return stats.result(deviceId, from, to);
  }

  /** The device's newest reading (greatest ts), from memory. */
  latest(deviceId: string): Reading | undefined {
    return this.state.latest.get(deviceId);
  }

  latestAll(): Reading[] {
    return [...this.state.latest.values()].sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
  }

  devices(): string[] {
    return this.state.knownDevices();
  }

  stats(): StoreStats {
    const { meta } = this.state;
    return {
      bytes: meta.bytes,
      readings: meta.readings,
      blocks: meta.blocks,
      journalEntries: meta.journalEntries,
      journalReadings: this.state.tailReadings(),
      devices: this.state.knownDevices().length,
      pendingReadings: this.writer.pendingWeight,
      writesInFlight: this.writer.writing ? 1 : 0,
      lastWriteMs: this.writer.lastWriteMs,
      maxBytes: this.maxBytes,
      hardMaxBytes: this.hardMaxBytes,
      full: meta.bytes >= this.maxBytes,
      overHardLimit: meta.bytes >= this.hardMaxBytes,
      open: this.lifecycle === 'open',
      writeError: this.failure?.error.message ?? null,
    };
  }

  /** The sessions layer sets what retention must keep (synced, or in no labelled session, may go). */
  setRetentionPolicy(policy: RetentionPolicy): void {
    this.retention.setPolicy(policy);
  }

  /** Runs retention now, or joins the pass running (it also runs on an interval and when appends cross maxBytes). */
  runRetention(): Promise<RetentionResult> {
    return this.retention.run();
  }

  private newDb(): Level<string, Buffer> {
    return new Level<string, Buffer>(this.options.dir, {
      valueEncoding: 'buffer',
      cacheSize: LEVELDB_CACHE_BYTES,
      writeBufferSize: LEVELDB_WRITE_BUFFER_BYTES,
      maxOpenFiles: LEVELDB_MAX_OPEN_FILES,
    });
  }

  private async doOpen(): Promise<void> {
    const started = performance.now();
    this.lifecycle = 'opening';
    await this.db.open();
    this.state = await loadState(this.db, this.clock.now());
    this.lifecycle = 'open';
    this.timers.push(this.clock.setInterval(() => this.checkTails(), TAIL_CHECK_INTERVAL_MS));
    this.timers.push(this.clock.setInterval(() => this.retentionTick(), RETENTION_INTERVAL_MS));
    for (const timer of this.timers) timer.unref?.();
    const { meta } = this.state;
    const ms = Math.round(performance.now() - started);
    const fields = { dir: this.options.dir, bytes: meta.bytes, readings: meta.readings, journalReadings: this.state.tailReadings() };
    this.log.info({ ...fields, devices: this.state.knownDevices().length, ms }, 'reading store open');
  }

  private async doClose(): Promise<void> {
    await this.opening?.catch(() => undefined);
    const wasOpen = this.lifecycle === 'open';
    this.lifecycle = 'closing';
    for (const timer of this.timers) this.clock.clearInterval(timer);
    this.timers = [];
    await this.retention.settled();
    await this.recovering?.catch(() => undefined);
    await this.writer.drain();
    if (wasOpen || this.db.status === 'open') await this.db.close();
    this.lifecycle = 'closed';
  }

  private async readable(): Promise<void> {
    if (this.recovering) await this.recovering.catch(() => undefined);
    if (this.lifecycle !== 'open' && this.lifecycle !== 'closing') throw new StoreClosedError(this.lifecycle);
  }

  /** Blocks up to the last committed seq plus each tail as it is now, captured in one synchronous step. */
  private snapshot(deviceIds: string[]): DeviceSnapshot[] {
    const visibleBlockSeq = this.state.committedBlockSeq;
    return deviceIds.map((deviceId) => ({ deviceId, visibleBlockSeq, tail: this.state.tailView(deviceId) }));
  }

  private checkTails(): void {
    const now = this.clock.now();
    for (const [deviceId, tail] of this.state.tails) {
      if (now - tail.since < this.tailMaxAgeMs) continue;
      // An empty tail is kept for a streaming device's next readings; one that stays empty is let go.
      if (tail.columns.length > 0) this.state.dueForCompaction.add(deviceId);
      else this.state.tails.delete(deviceId);
    }
    if (this.failure) void this.recoverIfDue().catch(() => undefined);
    else this.writer.kick();
  }

  private retentionTick(): void {
    if (this.state.meta.bytes >= this.hardMaxBytes) this.refuseFull();
    this.retention.kick(true);
  }

  /** Loud, but at most once a minute: append() refuses until retention or the sessions layer frees space. */
  private refuseFull(): void {
    this.refusing = true;
    const now = this.clock.now();
    if (now - this.lastFullLogAt < FULL_LOG_INTERVAL_MS) return;
    this.lastFullLogAt = now;
    const fields = { bytes: this.state.meta.bytes, maxBytes: this.maxBytes, hardMaxBytes: this.hardMaxBytes };
    this.log.error(fields, 'reading store at hardMaxBytes: refusing readings');
  }

  /**
   * After a failed sync write LevelDB refuses every later write, and the failed batch may or may not be on
   * disk: the store reopens LevelDB and rebuilds its memory from what is really there.
   */
  private writeFailed(err: unknown): Error {
    const error = errorOfFailedWrite(err, this.lifecycle);
    if (error instanceof StoreClosedError) return error;
    if (!this.failure) this.log.error({ err, code: error.code }, 'reading store write failed');
    this.failure = { error, at: this.clock.now() };
    return error;
  }

  private async recoverIfDue(): Promise<void> {
    if (!this.recovering && this.failure && this.clock.now() - this.failure.at >= RECOVERY_RETRY_MS) {
      this.recovering = this.reopen().finally(() => {
        this.recovering = undefined;
      });
    }
    if (this.recovering) await this.recovering;
    if (this.failure) throw this.failure.error;
  }

  private async reopen(): Promise<void> {
    const failure = this.failure!;
    try {
      await this.writer.drain();
      await this.db.close().catch((err: unknown) => this.log.warn({ err }, 'closing LevelDB after a failed write'));
      this.db = this.newDb();
      await this.db.open();
      this.state = await loadState(this.db, this.clock.now());
      this.failure = undefined;
      this.log.info({ bytes: this.state.meta.bytes }, 'reading store writable again');
    } catch (err) {
      this.failure = { error: failure.error, at: this.clock.now() };
      this.log.warn({ err }, 'reading store still not writable');
    }
  }
}

/** A time bound, or the open end when there is none (NaN included: it would poison key ranges). */
function timeOr(value: number | undefined, open: number): number {
  return value === undefined || Number.isNaN(value) ? open : value;
}
