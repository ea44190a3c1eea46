import type { Clock } from '../../daemon/clock.js';

/** Lets a repeated log line through at most once per interval per key (a noisy device must not flood journald). */
export class LogLimiter {
  private readonly lastAt = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
  ) {}

  allow(key: string): boolean {
    const now = this.clock.now();
    const last = this.lastAt.get(key);
    if (last !== undefined && now - last < this.intervalMs) return false;
    this.lastAt.set(key, now);
    return true;
  }
}
