import type { Reading } from '../drivers/reading.js';
import type { PendingSyncSession } from '../daemon/sessions/session-service.js';

export type { PendingSyncSession } from '../daemon/sessions/session-service.js';

/**
 * off: no sync.postgresUrl. idle: nothing to do or waiting for work. syncing: a run is under way.
 * backoff: the last run could not reach Postgres (offline, restarting); retried later. error: Postgres
 * answered but refused (credentials, schema, a session that does not add up); retried later too.
 */
export type SyncState = 'off' | 'idle' | 'syncing' | 'backoff' | 'error';

/** GET /api/v1/sync. Times are ms since the epoch. */
export interface SyncStatus {
  state: SyncState;
  /** `host:port/database`, never the user or password; null when off. */
  target: string | null;
  /** Ended, labelled sessions not synced at their current label version. */
  pendingSessions: number;
  /**
   * Readings in those sessions' time ranges. An estimate: a session relabelled after its sync counts all its
   * readings although only its row goes up again.
   */
  pendingReadings: number;
  /** endedAt of the oldest pending session (when it became ready to sync); null when none. */
  oldestUnsyncedAt: number | null;
  oldestUnsyncedAgeS: number | null;
  lastAttemptAt: number | null;
  lastSuccessAt: number | null;
  /** The last failure, credentials redacted; cleared by a successful run. */
  lastError: { message: string; at: number } | null;
  /** When the next retry is due (backoff and error only). */
  nextAttemptAt: number | null;
  /** Since the hub started: sessions confirmed in Postgres, and the readings of those sent in full (not a relabel's row alone). */
  uploadedSessions: number;
  uploadedReadings: number;
  errors: number;
}

/** What the API and the composition root call (SyncService, or SYNC_OFF when sync.postgresUrl is unset). */
export interface SyncApi {
  status(): SyncStatus;
  /** Runs now; resolves with the status once the run ended. */
  syncNow(): Promise<SyncStatus>;
}

/** 'sync' events on the hub's bus (and the WebSocket stream). */
export type SyncEvent =
  | { event: 'state'; status: SyncStatus }
  | { event: 'progress'; sessionId: string; deviceId: string; sentReadings: number }
  | { event: 'session'; sessionId: string; deviceId: string; labelVersion: number; readings: number; rowOnly: boolean };

/** The store's read side: one device's readings in [from, to), oldest first, in chunks (ReadingStore fits). */
export interface SyncReadingSource {
  iterate(deviceId: string, from?: number, to?: number): AsyncIterable<Reading[]>;
}

/** What sync needs of sessions (SessionService fits). */
export interface SyncSessionSource {
  pendingSync(limit?: number): Promise<PendingSyncSession[]>;
  markSynced(id: string, labelVersion: number): Promise<boolean>;
}
