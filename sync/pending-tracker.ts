import { sessionRange } from '../daemon/sessions/session-export.js';
import type { SyncReadingSource, SyncSessionSource } from './sync-types.js';

interface PendingEntry {
  endedAt: number;
  readings: number;
}

/**
 * What sync has yet to upload, for GET /sync, /health and /metrics, which must answer at once: the pending
 * sessions are re-read after changes, and each session's readings are counted once (an ended session's
 * range does not change) by scanning the store in the background.
 */
export class PendingTracker {
  private entries = new Map<string, PendingEntry>();
  private readonly counts = new Map<string, number>();
  private refreshing: Promise<void> | undefined;
  private again = false;
  private cancelled = false;
  /** Marked synced while a refresh runs: its list of pending sessions may predate that. */
  private syncedMeanwhile = new Set<string>();

  constructor(
    private readonly sessions: SyncSessionSource,
    private readonly readings: SyncReadingSource,
  ) {}

  /** Re-reads the pending sessions; a call during a refresh makes it run once more. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        this.syncedMeanwhile.clear();
        const next = new Map<string, PendingEntry>();
        for (const { session } of await this.sessions.pendingSync()) {
          let readings = this.counts.get(session.id);
          if (readings === undefined) {
            const { from, to } = sessionRange(session);
            readings = 0;
            for await (const chunk of this.readings.iterate(session.deviceId, from, to)) {
              if (this.cancelled) return;
              readings += chunk.length;
            }
            this.counts.set(session.id, readings);
          }
          next.set(session.id, { endedAt: session.endedAt ?? session.startedAt, readings });
        }
        for (const id of this.syncedMeanwhile) next.delete(id);
        for (const id of this.counts.keys()) if (!next.has(id)) this.counts.delete(id);
        this.entries = next;
      } while (this.again);
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** The session is in Postgres now: it leaves the figures at once, without waiting for a refresh. */
  synced(sessionId: string): void {
    this.entries.delete(sessionId);
    this.counts.delete(sessionId);
    if (this.refreshing) this.syncedMeanwhile.add(sessionId);
  }

  /** Stops a refresh under way (a big backlog takes a while to count) and waits for it. */
  async cancel(): Promise<void> {
    this.cancelled = true;
    while (this.refreshing) await this.refreshing.catch(() => undefined);
    this.cancelled = false;
  }

  summary(): { pendingSessions: number; pendingReadings: number; oldestUnsyncedAt: number | null } {
    let pendingReadings = 0;
    let oldest = Infinity;
    for (const entry of this.entries.values()) {
      pendingReadings += entry.readings;
      oldest = Math.min(oldest, entry.endedAt);
    }
    return { pendingSessions: this.entries.size, pendingReadings, oldestUnsyncedAt: Number.isFinite(oldest) ? oldest : null };
  }
}
