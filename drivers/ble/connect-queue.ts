import type { Logger } from 'pino';
import type { Clock } from '../../daemon/clock.js';

export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** Settles with `work`, or rejects with TimeoutError after `ms` on `clock`, whichever comes first. */
export function withTimeout<T>(work: Promise<T>, ms: number, clock: Clock, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new TimeoutError(what, ms)), ms);
    work.then(
      (value) => {
        clock.clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clock.clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/**
 * Runs connection attempts one at a time. Most BLE controllers (and noble's HCI bindings) handle a single
 * pending LE connection, and a hub with a dozen sensors powering up together would otherwise start them all
 * at once and time most of them out. A key waits in the queue at most once.
 */
export class ConnectQueue {
  private readonly waiting: Array<{ key: string; job: () => Promise<void> }> = [];
  private running: string | undefined;
  private closed = false;

  constructor(
    private readonly log: Logger,
    /** Called after each job, e.g. to resume scanning that the stack paused for the connection. */
    private readonly afterEach: () => void = () => undefined,
  ) {}

  /**
   * False when the key is already waiting or the queue is closed. A key whose job is running may queue
   * again: that job may be past the point where it could notice the new request.
   */
  enqueue(key: string, job: () => Promise<void>): boolean {
    if (this.closed || this.waiting.some((entry) => entry.key === key)) return false;
    this.waiting.push({ key, job });
    this.next();
    return true;
  }

  cancel(key: string): void {
    const index = this.waiting.findIndex((entry) => entry.key === key);
    if (index >= 0) this.waiting.splice(index, 1);
  }

  clear(): void {
    this.waiting.length = 0;
  }

  close(): void {
    this.closed = true;
    this.clear();
  }

  get active(): string | undefined {
    return this.running;
  }

  get length(): number {
    return this.waiting.length;
  }

  private next(): void {
    if (this.running !== undefined || this.closed) return;
    const entry = this.waiting.shift();
    if (!entry) return;
    this.running = entry.key;
    let work: Promise<void>;
    try {
      work = entry.job();
    } catch (err) {
      work = Promise.reject(err);
    }
    work
      .catch((err: unknown) => this.log.error({ err, key: entry.key }, 'BLE connect job failed unexpectedly'))
      .finally(() => {
        this.running = undefined;
        if (!this.closed) {
          try {
            this.afterEach();
          } catch (err) {
            this.log.error({ err }, 'BLE connect queue hook failed');
          }
        }
        this.next();
      });
  }
}
