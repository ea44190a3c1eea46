import type { Logger } from 'pino';
import type { Clock } from '../../daemon/clock.js';
import type { ReadingSink } from '../driver.js';
import type { Reading } from '../reading.js';
import { LogLimiter } from './log-limiter.js';

const LOG_INTERVAL_MS = 60_000;

/**
 * Hands decoded readings to the sink in arrival order with one ingest call in flight at a time; whatever
 * arrives meanwhile is coalesced into the next call, so a slow store gets bigger batches rather than more
 * calls. BLE has no acknowledgement to hold back, so when the store falls further behind than
 * `maxPendingReadings`, new notifications are dropped: counted, logged at most once a minute, never thrown.
 */
export class IngestPump {
  private pending: Reading[] = [];
  private inFlight = false;
  private idleWaiters: Array<() => void> = [];
  private readonly limiter: LogLimiter;
  private droppedSinceLog = 0;
  private failedSinceLog = 0;
  /** Readings the sink confirmed as stored. */
  stored = 0;
  /** Readings dropped because the store was too far behind. */
  dropped = 0;
  /** Readings the sink refused (disk full, store closed). */
  failed = 0;

  constructor(
    private readonly sink: ReadingSink,
    private readonly log: Logger,
    clock: Clock,
    private readonly maxPendingReadings: number,
  ) {
    this.limiter = new LogLimiter(clock, LOG_INTERVAL_MS);
  }

  /** False when the readings were dropped. */
  push(readings: readonly Reading[]): boolean {
    if (readings.length === 0) return true;
    if (this.pending.length + readings.length > this.maxPendingReadings) {
      this.dropped += readings.length;
      this.droppedSinceLog += readings.length;
      if (this.limiter.allow('dropped')) {
        this.log.warn({ dropped: this.droppedSinceLog, pending: this.pending.length }, 'store behind: dropping BLE readings');
        this.droppedSinceLog = 0;
      }
      return false;
    }
    for (const reading of readings) this.pending.push(reading);
    this.flush();
    return true;
  }

  get backlog(): number {
    return this.pending.length;
  }

  /** Resolves once everything pushed so far has been handed over and settled. */
  drain(): Promise<void> {
    if (!this.inFlight && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private flush(): void {
    if (this.inFlight) return;
    if (this.pending.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
      return;
    }
    const batch = this.pending;
    this.pending = [];
    this.inFlight = true;
    let work: Promise<void>;
    try {
      work = this.sink.ingest(batch, 'ble');
    } catch (err) {
      work = Promise.reject(err);
    }
    work
      .then(
        () => {
          this.stored += batch.length;
        },
        (err: unknown) => {
          this.failed += batch.length;
          this.failedSinceLog += batch.length;
          if (this.limiter.allow('failed')) {
            this.log.error({ err, lost: this.failedSinceLog }, 'store refused BLE readings');
            this.failedSinceLog = 0;
          }
        },
      )
      .finally(() => {
        this.inFlight = false;
        this.flush();
      });
  }
}
