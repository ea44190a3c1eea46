import type { ComponentStatus } from '../daemon/api/schemas.js';
import type { MetricFamily } from '../daemon/metrics.js';
import type { SyncStatus } from './sync-types.js';

/** /health's components.sync: off, ok, or degraded while Postgres cannot be reached or refuses. */
export function syncHealth(status: SyncStatus, now: number): ComponentStatus {
  const figures = { syncState: status.state, pendingSessions: status.pendingSessions, lastSuccessAt: status.lastSuccessAt };
  switch (status.state) {
    case 'off':
      return { state: 'off', detail: 'sync.postgresUrl (GYMHUB_PG_URL) is not set' };
    case 'idle':
    case 'syncing': {
      const what = status.pendingSessions === 0 ? 'every labelled session is in Postgres' : `${status.pendingSessions} sessions to upload`;
      return { state: 'ok', detail: `${status.state === 'syncing' ? 'uploading' : 'idle'} (${status.target}): ${what}`, ...figures };
    }
    case 'backoff':
    case 'error': {
      const retry = status.nextAttemptAt === null ? '' : `; next try in ${Math.max(0, Math.ceil((status.nextAttemptAt - now) / 1000))} s`;
      const why = status.state === 'backoff' ? 'cannot reach Postgres' : 'Postgres refused the upload';
      return { state: 'degraded', detail: `${why} (${status.target}): ${status.lastError?.message ?? 'unknown error'}${retry}`, ...figures };
    }
  }
}

/** /metrics' sync figures (SPEC section 8: sync lag). */
export function syncMetricFamilies(status: SyncStatus): MetricFamily[] {
  return [
    { name: 'gymhub_sync_up', help: '1 unless the last sync run failed (Postgres unreachable or refusing).', type: 'gauge', samples: [{ value: status.state === 'backoff' || status.state === 'error' ? 0 : 1 }] },
    { name: 'gymhub_sync_pending_sessions', help: 'Ended, labelled sessions not yet in Postgres at their current label.', type: 'gauge', samples: [{ value: status.pendingSessions }] },
    { name: 'gymhub_sync_pending_readings', help: 'Readings in the pending sessions (an estimate: a relabelled session counts all its readings).', type: 'gauge', samples: [{ value: status.pendingReadings }] },
    { name: 'gymhub_sync_lag_seconds', help: 'Age of the oldest pending session since it ended; 0 when none is pending.', type: 'gauge', samples: [{ value: status.oldestUnsyncedAgeS ?? 0 }] },
    { name: 'gymhub_sync_uploaded_sessions_total', help: 'Sessions confirmed in Postgres since the hub started.', type: 'counter', samples: [{ value: status.uploadedSessions }] },
    { name: 'gymhub_sync_uploaded_readings_total', help: 'Readings of the sessions confirmed in Postgres since the hub started (a relabel sends the row alone and adds none).', type: 'counter', samples: [{ value: status.uploadedReadings }] },
    { name: 'gymhub_sync_errors_total', help: 'Failed sync runs since the hub started.', type: 'counter', samples: [{ value: status.errors }] },
  ];
}
