import pg from 'pg';
import type { Logger } from 'pino';
import { backoffDelayMs, type Clock, type Timer } from '../daemon/clock.js';
import type { EventBus } from '../daemon/event-bus.js';
import { RateLimitedLog } from '../daemon/recognition/rate-limited-log.js';
import { PendingTracker } from './pending-tracker.js';
import { pgTarget, redactPgMessage } from './pg-redact.js';
import { DEFAULT_CHUNK_READINGS, SessionUploader } from './session-uploader.js';
import { SyncIntegrityError, SyncOffError } from './sync-errors.js';
import type { SyncApi, SyncReadingSource, SyncSessionSource, SyncState, SyncStatus } from './sync-types.js';

export const SYNC_BACKOFF_MIN_MS = 1_000;
export const SYNC_BACKOFF_MAX_MS = 5 * 60_000;
const CONNECT_TIMEOUT_MS = 10_000;
/** A query that hangs this long is a dead connection (a network cut without a reset). */
const QUERY_TIMEOUT_MS = 120_000;
/** The same failure is logged at most this often while offline. */
const ERROR_LOG_INTERVAL_MS = 5 * 60_000;
const BUS_OWNER = 'sync';

export interface SyncServiceOptions {
  /** sync.postgresUrl; pg's own sslmode handling applies. Never logged. */
  url: string;
  hubId: string;
  sessions: SyncSessionSource;
  readings: SyncReadingSource;
  bus: Pick<EventBus, 'on' | 'emit' | 'removeListeners'>;
  clock: Clock;
  log: Logger;
  version?: string;
  chunkReadings?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** For the backoff's jitter. */
  random?: () => number;
}

/**
 * Cloud sync (SPEC section 9): a run connects, migrates, and uploads every pending session oldest first,
 * marking each synced only once Postgres holds all of it; then it disconnects until there is work again (a
 * session ends labelled, or is relabelled). A failed run is retried with capped exponential backoff and
 * jitter; syncNow() (POST /sync) tries at once. Everything a run does is idempotent, so a run cut anywhere
 * (Postgres gone, the hub stopped or killed) is simply done again.
 */
export class SyncService implements SyncApi {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly pending: PendingTracker;
  private readonly errorLog: RateLimitedLog;
  private state: Exclude<SyncState, 'off'> = 'idle';
  private running: Promise<void> | undefined;
  private client: pg.Client | undefined;
  private retryTimer: Timer | undefined;
  private nextAttemptAt: number | null = null;
  private attempt = 0;
  /** Work arrived during a run: the run looks for pending sessions once more before it ends. */
  private dirty = false;
  private stopped = true;
  private lastAttemptAt: number | null = null;
  private lastSuccessAt: number | null = null;
  private lastError: { message: string; at: number } | null = null;
  private counters = { uploadedSessions: 0, uploadedReadings: 0, errors: 0 };

  constructor(private readonly options: SyncServiceOptions) {
    this.log = options.log;
    this.clock = options.clock;
    this.pending = new PendingTracker(options.sessions, options.readings);
    this.errorLog = new RateLimitedLog(options.log, options.clock, ERROR_LOG_INTERVAL_MS);
  }

  /** Starts watching sessions and makes a first run at once. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.options.bus.on('session', BUS_OWNER, ({ type, session }) => {
      // A session this service marked synced has already left the pending figures.
      if (session.synced) return;
      if (type === 'deleted') this.refreshPending();
      else if (session.status === 'ended' && session.label !== undefined) {
        this.refreshPending();
        this.kick();
      }
    });
    this.log.info({ target: pgTarget(this.options.url), hubId: this.options.hubId }, 'cloud sync on');
    this.refreshPending();
    this.launch();
  }

  /**
   * Abandons a run in flight (its connection is closed, a query in flight is cut: what it sent is kept or rolled
   * back by Postgres, and the next start sends it again without duplicates) and waits for it to settle.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.options.bus.removeListeners(BUS_OWNER);
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.client?.end().catch(() => undefined);
    await this.running?.catch(() => undefined);
    await this.pending.cancel();
  }

  /** Runs now (or joins the run under way, which then looks for work once more); resolves with the status after it. */
  async syncNow(): Promise<SyncStatus> {
    if (this.stopped) return this.status();
    if (this.running) {
      this.dirty = true;
      await this.running;
    } else {
      this.launch();
      await this.running;
    }
    return this.status();
  }

  status(): SyncStatus {
    const now = this.clock.now();
    const { pendingSessions, pendingReadings, oldestUnsyncedAt } = this.pending.summary();
    return {
      state: this.state,
      target: pgTarget(this.options.url),
      pendingSessions,
      pendingReadings,
      oldestUnsyncedAt,
      oldestUnsyncedAgeS: oldestUnsyncedAt === null ? null : Math.max(0, Math.round((now - oldestUnsyncedAt) / 1000)),
      lastAttemptAt: this.lastAttemptAt,
      lastSuccessAt: this.lastSuccessAt,
      lastError: this.lastError,
      nextAttemptAt: this.nextAttemptAt,
      ...this.counters,
    };
  }

  /** New work: run now unless a run is under way (it picks the work up) or a retry is scheduled. */
  private kick(): void {
    if (this.stopped) return;
    if (this.running) this.dirty = true;
    else if (this.retryTimer === undefined) this.launch();
  }

  private launch(): void {
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.nextAttemptAt = null;
    this.lastAttemptAt = this.clock.now();
    // The outcome is applied once the run is over, so that whoever hears the new state can start the next one.
    const run = this.run().then((failure) => {
      this.running = undefined;
      if (this.stopped) return;
      if (failure === undefined) this.succeeded();
      else this.failed(failure.err);
    });
    this.running = run;
    this.setState('syncing');
  }

  /** One run; resolves with what made it fail, if anything. */
  private async run(): Promise<{ err: unknown } | undefined> {
    const client = new pg.Client({
      connectionString: this.options.url,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      keepAlive: true,
      application_name: 'gymhub-sync',
    });
    // A connection that drops between queries is reported here, and would otherwise crash the process; the
    // query in flight (if any) fails on its own.
    client.on('error', (err) => this.log.debug({ error: this.redact(err) }, 'sync connection lost'));
    this.client = client;
    try {
      await client.connect();
      if (this.stopped) return undefined;
      const uploader = new SessionUploader({
        client,
        hubId: this.options.hubId,
        readings: this.options.readings,
        chunkReadings: this.options.chunkReadings ?? DEFAULT_CHUNK_READINGS,
        version: this.options.version,
        now: () => this.clock.now(),
        onChunk: (progress) => {
          this.log.debug(progress, 'readings chunk in Postgres');
          this.options.bus.emit('sync', { event: 'progress', ...progress });
        },
      });
      const applied = await uploader.prepare();
      if (applied.length > 0) this.log.info({ versions: applied }, 'cloud schema migrated');
      await this.uploadPending(uploader);
      return undefined;
    } catch (err) {
      return { err };
    } finally {
      this.client = undefined;
      // Not awaited: after a lost connection pg's end() may never resolve. It destroys a dead socket at once.
      client.end().catch(() => undefined);
      this.refreshPending();
    }
  }

  private succeeded(): void {
    this.attempt = 0;
    this.lastSuccessAt = this.clock.now();
    this.lastError = null;
    this.setState('idle');
  }

  /** Oldest first until none is left; a session Postgres refuses is left for the retry, the others go on. */
  private async uploadPending(uploader: SessionUploader): Promise<void> {
    const refused = new Map<string, unknown>();
    for (;;) {
      this.dirty = false;
      const batch = (await this.options.sessions.pendingSync()).filter((p) => !refused.has(p.session.id));
      if (batch.length === 0 && !this.dirty) break;
      for (const pending of batch) {
        if (this.stopped) return;
        let result;
        try {
          result = await uploader.upload(pending);
        } catch (err) {
          if (isUnreachable(err)) throw err;
          refused.set(pending.session.id, err);
          this.log.error({ sessionId: pending.session.id, error: this.redact(err), code: errorCode(err) }, 'session not synced');
          continue;
        }
        // False when it was relabelled meanwhile: it stays pending and goes up again with its new label.
        const marked = await this.options.sessions.markSynced(pending.session.id, pending.labelVersion);
        if (marked) this.pending.synced(pending.session.id);
        this.counters.uploadedSessions++;
        if (!result.rowOnly) this.counters.uploadedReadings += result.readings;
        const { sessionId, labelVersion, readings, rowOnly } = result;
        this.log.info({ sessionId, deviceId: pending.session.deviceId, labelVersion, readings, inserted: result.inserted, rowOnly }, 'session synced');
        this.options.bus.emit('sync', { event: 'session', sessionId, deviceId: pending.session.deviceId, labelVersion, readings, rowOnly });
      }
    }
    if (refused.size > 0) throw refused.values().next().value;
  }

  private failed(err: unknown): void {
    const message = this.redact(err);
    const at = this.clock.now();
    this.counters.errors++;
    this.lastError = { message, at };
    const delayMs = backoffDelayMs(this.attempt++, this.options.backoffMinMs ?? SYNC_BACKOFF_MIN_MS, this.options.backoffMaxMs ?? SYNC_BACKOFF_MAX_MS, this.options.random);
    this.nextAttemptAt = at + delayMs;
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) this.launch();
    }, delayMs);
    this.retryTimer.unref?.();
    const unreachable = isUnreachable(err);
    this.errorLog.warn(message, { error: message, code: errorCode(err), retryInMs: delayMs }, unreachable ? 'cannot reach Postgres; sync retries later' : 'sync failed; retrying later');
    this.setState(unreachable ? 'backoff' : 'error');
  }

  private setState(state: Exclude<SyncState, 'off'>): void {
    this.state = state;
    this.options.bus.emit('sync', { event: 'state', status: this.status() });
  }

  private refreshPending(): void {
    if (this.stopped) return;
    this.pending.refresh().catch((err: unknown) => this.log.debug({ error: this.redact(err) }, 'cannot count pending readings'));
  }

  private redact(err: unknown): string {
    return redactPgMessage(err instanceof Error ? err.message : String(err), this.options.url);
  }
}

/** Sync with no sync.postgresUrl: GET /sync says off, POST /sync answers 409. */
export const SYNC_OFF: SyncApi = {
  status: () => ({
    state: 'off', target: null, pendingSessions: 0, pendingReadings: 0, oldestUnsyncedAt: null, oldestUnsyncedAgeS: null, lastAttemptAt: null,
    lastSuccessAt: null, lastError: null, nextAttemptAt: null, uploadedSessions: 0, uploadedReadings: 0, errors: 0,
  }),
  syncNow: () => Promise.reject(new SyncOffError()),
};

/**
 * True when Postgres could not be reached or went away (a network cut, a restart, a server starting up or out
 * of connections): worth retrying as is. False when it answered and refused (credentials, schema, data).
 */
export function isUnreachable(err: unknown): boolean {
  if (err instanceof SyncIntegrityError) return false;
  if (err instanceof pg.DatabaseError) return /^(08|40|53|57)/.test(err.code ?? '');
  return true;
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
