import type { Logger } from 'pino';
import type { Clock, Timer } from '../../daemon/clock.js';
import type { Transport } from '../reading.js';
import type { PendingRejections } from './device-registry.js';
import type { RejectReason } from './types.js';

export const REJECTION_LOG_INTERVAL_MS = 60_000;
/**
 * The summing timer fires at most this often. Devices fall due at scattered times, and one wake-up per
 * device would cost a pass over every waiting device each time; a line a second late costs nothing.
 */
export const REJECTION_LOG_TIMER_STEP_MS = 1_000;

/** A device's rejections as the log sees them; deviceId undefined for payloads no device could be named for. */
export interface RejectionSource {
  deviceId: string | undefined;
  pending: PendingRejections;
}

/**
 * Logs rejected samples at most once per device per interval. The first rejection of a quiet device is
 * logged at once; what follows within the interval is summed into one line when the interval is over
 * (by a timer, so that a device that stops sending bad data still gets its last line).
 */
export class RejectionLog {
  private readonly waiting = new Set<RejectionSource>();
  private timer: Timer | undefined;
  private timerDueAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly intervalMs = REJECTION_LOG_INTERVAL_MS,
  ) {}

  /** Records count rejections of one reason (a whole batch can go at once). */
  note(source: RejectionSource, transport: Transport, reason: RejectReason, message: string, count = 1): void {
    const p = source.pending;
    p.count += count;
    p.byReason[reason] = (p.byReason[reason] ?? 0) + count;
    p.example ??= `${reason}: ${message}`;
    p.transport = transport;
    const now = this.clock.now();
    if (now - p.lastLogAt >= this.intervalMs) {
      this.emit(source, now);
      return;
    }
    this.waiting.add(source);
    this.arm(p.lastLogAt + this.intervalMs, now);
  }

  /** Writes the line of a source that is going away (evicted, forgotten), if it has one pending. */
  flush(source: RejectionSource): void {
    this.waiting.delete(source);
    if (source.pending.count > 0) this.emit(source, this.clock.now());
  }

  close(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDueAt = Number.POSITIVE_INFINITY;
  }

  private emit(source: RejectionSource, now: number): void {
    const p = source.pending;
    let reason: RejectReason | undefined;
    for (const [r, n] of Object.entries(p.byReason) as [RejectReason, number][]) {
      if (reason === undefined || n > p.byReason[reason]!) reason = r;
    }
    this.log.warn(
      { deviceId: source.deviceId, transport: p.transport, reason, reasons: p.byReason, count: p.count, example: p.example },
      'rejected samples',
    );
    p.count = 0;
    p.byReason = {};
    p.example = undefined;
    p.lastLogAt = now;
  }

  private arm(dueAt: number, now: number): void {
    if (this.timer !== undefined && this.timerDueAt <= dueAt) return;
    this.clock.clearTimeout(this.timer);
    this.timerDueAt = dueAt;
    this.timer = this.clock.setTimeout(() => this.onTimer(), Math.max(0, dueAt - now));
    this.timer.unref?.();
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerDueAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    let nextDueAt = Number.POSITIVE_INFINITY;
    for (const source of this.waiting) {
      const dueAt = source.pending.lastLogAt + this.intervalMs;
      if (dueAt <= now) {
        this.waiting.delete(source);
        if (source.pending.count > 0) this.emit(source, now);
      } else if (dueAt < nextDueAt) {
        nextDueAt = dueAt;
      }
    }
    if (nextDueAt !== Number.POSITIVE_INFINITY) this.arm(Math.max(nextDueAt, now + REJECTION_LOG_TIMER_STEP_MS), now);
  }
}
