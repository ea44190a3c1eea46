import type { Logger } from 'pino';
import type { Clock } from '../clock.js';

const MAX_KEYS = 1000;

/**
 * Logs a warning at most once per key (device and reason) per interval, with how many were suppressed
 * since: a device whose readings keep failing recognition must not flood the journal.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly intervalMs = 60_000,
  ) {}

  warn(key: string, fields: Record<string, unknown>, message: string): void {
    const now = this.clock.now();
    const entry = this.last.get(key);
    if (entry && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    if (this.last.size >= MAX_KEYS && !entry) this.last.delete(this.last.keys().next().value!);
    this.last.set(key, { at: now, suppressed: 0 });
    this.log.warn({ ...fields, suppressed: entry?.suppressed ?? 0 }, message);
  }
}
