import type { Clock, Timer } from '../../daemon/clock.js';

interface Pending {
  id: number;
  at: number;
  fn: () => void;
  every?: number;
}

/** A Clock that moves only when the test says so. */
export class FakeClock implements Clock {
  private current: number;
  private nextId = 1;
  private pending: Pending[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.schedule(fn, ms);
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.schedule(fn, ms, Math.max(1, ms));
  }

  clearTimeout(timer: Timer | undefined): void {
    const id = (timer as { id?: number } | undefined)?.id;
    this.pending = this.pending.filter((p) => p.id !== id);
  }

  clearInterval(timer: Timer | undefined): void {
    this.clearTimeout(timer);
  }

  /** Moves time forward, running every timer that falls due in order. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      this.pending.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.pending[0];
      if (!next || next.at > end) break;
      this.current = Math.max(this.current, next.at);
      if (next.every) next.at += next.every;
      else this.pending.shift();
      next.fn();
    }
    this.current = end;
  }

  get timerCount(): number {
    return this.pending.length;
  }

  private schedule(fn: () => void, ms: number, every?: number): Timer {
    const entry: Pending = { id: this.nextId++, at: this.current + Math.max(0, ms), fn, every };
    this.pending.push(entry);
    return { id: entry.id, unref: () => undefined } as Timer;
  }
}
