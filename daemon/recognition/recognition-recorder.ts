import type { Logger } from 'pino';
import type { Clock, Timer } from '../clock.js';
import type { SessionDirectory } from '../sessions/types.js';

export interface RecognitionResult {
  reps?: number;
  predictedLabel?: string;
}

interface Entry {
  pending: RecognitionResult | undefined;
  lastAt: number;
  timer: Timer | undefined;
}

/**
 * Hands a session's live reps and predicted label to the sessions service at most once per `intervalMs`
 * (each call is a durable write there); the latest values win. Final results go at once and replace any
 * live update still waiting. Failures are logged, never thrown: recognition carries on.
 */
export class RecognitionRecorder {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly sessions: Pick<SessionDirectory, 'recordRecognition'>,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly intervalMs: number,
  ) {}

  /** A live change: recorded now, or when the session's interval has passed. */
  update(sessionId: string, result: RecognitionResult): void {
    let entry = this.entries.get(sessionId);
    if (!entry) {
      entry = { pending: undefined, lastAt: Number.NEGATIVE_INFINITY, timer: undefined };
      this.entries.set(sessionId, entry);
    }
    entry.pending = { ...entry.pending, ...result };
    if (entry.timer) return;
    const wait = entry.lastAt + this.intervalMs - this.clock.now();
    if (wait <= 0) {
      this.send(sessionId, entry);
      return;
    }
    entry.timer = this.clock.setTimeout(() => {
      entry.timer = undefined;
      this.send(sessionId, entry);
    }, wait);
    entry.timer.unref?.();
  }

  /** The session's final results: sent now; nothing more is sent for it afterwards. */
  final(sessionId: string, result: RecognitionResult): Promise<void> {
    this.forget(sessionId);
    return this.record(sessionId, result);
  }

  /** Sends what is waiting for `sessionId` now (a device state evicted, the service stopping). */
  flush(sessionId: string): void {
    const entry = this.entries.get(sessionId);
    if (!entry) return;
    this.clock.clearTimeout(entry.timer);
    entry.timer = undefined;
    this.send(sessionId, entry);
    this.entries.delete(sessionId);
  }

  forget(sessionId: string): void {
    const entry = this.entries.get(sessionId);
    if (entry) this.clock.clearTimeout(entry.timer);
    this.entries.delete(sessionId);
  }

  flushAll(): void {
    for (const sessionId of [...this.entries.keys()]) this.flush(sessionId);
  }

  /** Resolves once every recordRecognition call made so far has settled. */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  private send(sessionId: string, entry: Entry): void {
    if (!entry.pending) return;
    const result = entry.pending;
    entry.pending = undefined;
    entry.lastAt = this.clock.now();
    void this.record(sessionId, result);
  }

  private record(sessionId: string, result: RecognitionResult): Promise<void> {
    const done = this.sessions
      .recordRecognition(sessionId, result)
      .catch((err: unknown) => this.log.warn({ err, sessionId }, 'could not record recognition results for the session'))
      .finally(() => this.inflight.delete(done));
    this.inflight.add(done);
    return done;
  }
}
