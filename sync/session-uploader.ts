import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { sessionRange } from '../daemon/sessions/session-export.js';
import { COPY_COLUMNS, CopyRows } from './copy-rows.js';
import { migrate } from './migrations.js';
import type { PendingSyncSession, SyncReadingSource } from './sync-types.js';
import { SyncIntegrityError } from './sync-errors.js';

export const DEFAULT_CHUNK_READINGS = 10_000;

export interface SessionUploaderOptions {
  /** A connected client; the uploader creates a temporary staging table on it. */
  client: pg.ClientBase;
  hubId: string;
  readings: SyncReadingSource;
  /** Readings per COPY (one transaction each). */
  chunkReadings?: number;
  /** The hub's software version, for the hubs row. */
  version?: string;
  now: () => number;
  /** After each chunk is in Postgres: readings sent so far for the session. */
  onChunk?: (progress: { sessionId: string; deviceId: string; sentReadings: number }) => void;
}

export interface UploadResult {
  sessionId: string;
  labelVersion: number;
  /** The session's distinct readings, now all in Postgres. */
  readings: number;
  /** Readings Postgres did not hold before (0 when a re-send found them all there). */
  inserted: number;
  /** Only the session row went up: its readings were confirmed by an earlier upload (a relabel). */
  rowOnly: boolean;
}

const STAGE_TABLE = 'gymhub_sync_stage';
const COLUMNS = COPY_COLUMNS.join(', ');
/** Postgres' unique_violation: a reading of the chunk is already there. */
const UNIQUE_VIOLATION = '23505';

/**
 * Uploads ended, labelled sessions into the cloud schema (sync/migrations.ts) so that a re-send can never
 * duplicate, a chunk of readings per transaction. A session Postgres holds none of yet (the usual case) is
 * copied straight into `readings`; the primary key (hub, device, ts, seq) refuses a chunk that would repeat a
 * reading, whole. A session partly there already (a re-send after a cut or a kill), or a chunk refused that
 * way, goes by COPY into a temporary staging table, then INSERT ... ON CONFLICT DO NOTHING. The session row
 * is written last, in a transaction that first counts what Postgres holds in the session's range: it exists
 * only once all of the session is there, which is what lets a relabel send the row alone.
 */
export class SessionUploader {
  private readonly client: pg.ClientBase;
  private readonly chunkReadings: number;

  constructor(private readonly options: SessionUploaderOptions) {
    this.client = options.client;
    this.chunkReadings = Math.max(1, Math.floor(options.chunkReadings ?? DEFAULT_CHUNK_READINGS));
  }

  /** Migrates the schema, records the hub, and creates this connection's staging table. */
  async prepare(): Promise<number[]> {
    const applied = await migrate(this.client);
    const now = this.options.now();
    await this.client.query(
      `INSERT INTO hubs (hub_id, first_seen_at, last_seen_at, version) VALUES ($1, $2, $2, $3)
       ON CONFLICT (hub_id) DO UPDATE SET last_seen_at = GREATEST(hubs.last_seen_at, EXCLUDED.last_seen_at), version = EXCLUDED.version`,
      [this.options.hubId, now, this.options.version ?? null],
    );
    // Temporary: private to this connection, gone with it, and no WAL. Emptied by each chunk's commit.
    await this.client.query(`CREATE TEMPORARY TABLE IF NOT EXISTS ${STAGE_TABLE} (LIKE readings) ON COMMIT DELETE ROWS`);
    return applied;
  }

  async upload({ session, labelVersion }: PendingSyncSession): Promise<UploadResult> {
    if (session.label === undefined || session.endedAt === undefined) throw new Error(`session ${session.id} is not ended and labelled`);
    const existing = await this.client.query<{ reading_count: number }>('SELECT reading_count FROM sessions WHERE hub_id = $1 AND session_id = $2', [this.options.hubId, session.id]);
    if (existing.rows.length > 0) {
      const readings = existing.rows[0]!.reading_count;
      await this.transaction(async () => this.writeRows({ session, labelVersion }, readings));
      return { sessionId: session.id, labelVersion, readings, inserted: 0, rowOnly: true };
    }

    const { from, to } = sessionRange(session);
    const { hubId } = this.options;
    const partly = await this.client.query('SELECT 1 FROM readings WHERE hub_id = $1 AND device_id = $2 AND ts >= $3 AND ts < $4 LIMIT 1', [hubId, session.deviceId, from, to]);
    let direct = partly.rows.length === 0;
    const rows = new CopyRows(`${hubId}\t${session.deviceId}\t${session.id}\t`);
    let inserted = 0;
    let sent = 0;
    let inFlight: Promise<void> | undefined;
    const send = () => {
      const { payload, rows: count } = rows.take();
      const chunk = this.sendChunk(payload, direct).then((result) => {
        direct = result.direct;
        inserted += result.inserted;
        sent += count;
        this.options.onChunk?.({ sessionId: session.id, deviceId: session.deviceId, sentReadings: sent });
      });
      chunk.catch(() => undefined);
      inFlight = chunk;
    };
    try {
      for await (const chunk of this.options.readings.iterate(session.deviceId, from, to)) {
        for (let start = 0; start < chunk.length;) {
          const end = Math.min(chunk.length, start + this.chunkReadings - rows.buffered);
          // One chunk in Postgres while the next is read from the store.
          if (rows.add(chunk, start, end) >= this.chunkReadings) {
            await inFlight;
            send();
          }
          start = end;
        }
      }
      await inFlight;
      if (rows.buffered > 0) send();
      await inFlight;
    } finally {
      await inFlight?.catch(() => undefined);
    }

    const expected = rows.distinct;
    await this.transaction(async () => {
      const held = await this.client.query<{ n: string }>(
        'SELECT count(*) AS n FROM readings WHERE hub_id = $1 AND device_id = $2 AND ts >= $3 AND ts < $4',
        [this.options.hubId, session.deviceId, from, to],
      );
      const found = Number(held.rows[0]!.n);
      if (found !== expected) throw new SyncIntegrityError(session.id, expected, found);
      await this.writeRows({ session, labelVersion }, expected);
    });
    return { sessionId: session.id, labelVersion, readings: expected, inserted, rowOnly: false };
  }

  /**
   * One chunk in one transaction: straight into `readings` while that works, else through staging. Returns
   * the rows that were new, and whether the next chunk may go straight in.
   */
  private async sendChunk(payload: Buffer, direct: boolean): Promise<{ inserted: number; direct: boolean }> {
    if (direct) {
      try {
        return { inserted: await this.transaction(() => this.copy(payload, 'readings')), direct: true };
      } catch (err) {
        if (!(err instanceof pg.DatabaseError && err.code === UNIQUE_VIOLATION)) throw err;
      }
    }
    const inserted = await this.transaction(async () => {
      await this.copy(payload, STAGE_TABLE);
      const result = await this.client.query(`INSERT INTO readings (${COLUMNS}) SELECT ${COLUMNS} FROM ${STAGE_TABLE} ON CONFLICT (hub_id, device_id, ts, seq) DO NOTHING`);
      return result.rowCount ?? 0;
    });
    return { inserted, direct: false };
  }

  /** COPY of the payload's rows into the table, inside the caller's transaction; returns the rows copied. */
  private async copy(payload: Buffer, table: string): Promise<number> {
    // Safe to commit lazily: the session row's commit is synchronous, and the WAL is flushed in order, so once
    // that commit returns every chunk before it is durable too.
    await this.client.query('SET LOCAL synchronous_commit TO off');
    const copy = this.client.query(copyFrom(`COPY ${table} (${COLUMNS}) FROM STDIN`));
    // A connection lost mid-COPY can report its error twice (the server's message, then the closed socket):
    // the first fails the pipeline, a second must not be an uncaught 'error' event.
    copy.on('error', () => undefined);
    await pipeline(Readable.from([payload]), copy);
    return copy.rowCount;
  }

  /** The device and session rows; an older label version never overwrites a newer one. */
  private async writeRows({ session, labelVersion }: PendingSyncSession, readingCount: number): Promise<void> {
    const { hubId } = this.options;
    await this.client.query(
      `INSERT INTO devices (hub_id, device_id, first_seen_at, last_seen_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (hub_id, device_id) DO UPDATE SET first_seen_at = LEAST(devices.first_seen_at, EXCLUDED.first_seen_at),
         last_seen_at = GREATEST(devices.last_seen_at, EXCLUDED.last_seen_at)`,
      [hubId, session.deviceId, session.startedAt, session.endedAt],
    );
    await this.client.query(
      `INSERT INTO sessions (hub_id, session_id, device_id, label, label_version, athlete_id, candidates, started_at, ended_at,
         notes, reps, predicted_label, reading_count, synced_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (hub_id, session_id) DO UPDATE SET label = EXCLUDED.label, label_version = EXCLUDED.label_version,
         athlete_id = EXCLUDED.athlete_id, candidates = EXCLUDED.candidates, notes = EXCLUDED.notes, reps = EXCLUDED.reps,
         predicted_label = EXCLUDED.predicted_label, synced_at = EXCLUDED.synced_at
       WHERE sessions.label_version <= EXCLUDED.label_version`,
      [
        hubId, session.id, session.deviceId, session.label, labelVersion, session.athleteId ?? null, session.candidates ?? null,
        session.startedAt, session.endedAt, session.notes ?? null, session.reps ?? null, session.predictedLabel ?? null,
        readingCount, this.options.now(),
      ],
    );
  }

  private async transaction<T>(work: () => Promise<T>): Promise<T> {
    await this.client.query('BEGIN');
    try {
      const result = await work();
      await this.client.query('COMMIT');
      return result;
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
}
