import { RepCounter } from '../../models/index.js';
import type { Reading } from '../../drivers/reading.js';
import type { Session } from '../sessions/types.js';
import { LabelTally } from './label-tally.js';
import type { PredictionPage, PredictionQuery } from './prediction-store.js';

/** Where a session's past is read from after a restart or an eviction (ReadingStore fits). */
export interface ReadingSource {
  iterate(deviceId: string, from?: number, to?: number): AsyncIterable<Reading[]>;
}

export interface TrackerSources {
  predictions: { list(query: PredictionQuery): Promise<PredictionPage> };
  readings?: ReadingSource;
}

/** How far back a restore reads a session's readings: bounds its cost for a session left open for hours. */
export const RESTORE_MAX_MS = 15 * 60_000;
/** Live readings held while a restore runs, at most (the restore takes milliseconds; this is a guard). */
const MAX_HELD_READINGS = 200_000;
const RESTORE_PAGE = 5000;

/**
 * One active session as recognition follows it: its live rep counter and the vote of its windows.
 *
 * The tracker can be created at any point of the session (the hub restarted, or the device's state was
 * evicted while idle): it then restores what came before from the stores, the vote from the session's stored
 * predictions and the rep counter from its stored readings (the last RESTORE_MAX_MS of them), while live
 * readings and windows are held back. Each item is counted once: restored ones only before the first live
 * one, held ones only after the last restored one.
 */
export class SessionTracker {
  readonly id: string;
  readonly deviceId: string;
  readonly startedAt: number;
  private readonly endedAt: number | undefined;
  readonly tally = new LabelTally();
  /** The live count last reported. */
  reportedReps = 0;
  /** The predicted label last reported. */
  reportedLabel: string | undefined;
  private readonly counter = new RepCounter();
  private held: { readings: Reading[][]; heldCount: number; windows: { start: number; label: string }[] } | undefined;
  private firstLiveTs = Number.POSITIVE_INFINITY;
  private firstLiveWindow = Number.POSITIVE_INFINITY;
  private restoredTs = Number.NEGATIVE_INFINITY;
  private restoredWindow = Number.NEGATIVE_INFINITY;
  private readonly restoring: Promise<void>;

  /** `now`: the hub's time at creation; `sources` undefined: nothing to restore (a session that starts now). */
  constructor(session: Session, now: number, sources: TrackerSources | undefined, onRestoreError: (err: unknown) => void) {
    this.id = session.id;
    this.deviceId = session.deviceId;
    this.startedAt = session.startedAt;
    this.endedAt = session.endedAt;
    if (!sources) {
      this.restoring = Promise.resolve();
      return;
    }
    this.held = { readings: [], heldCount: 0, windows: [] };
    this.restoring = this.restore(sources, now).catch(onRestoreError).finally(() => this.release());
  }

  get restored(): boolean {
    return this.held === undefined;
  }

  whenRestored(): Promise<void> {
    return this.restoring;
  }

  /** The device's readings (time order); those before the session started are ignored. Returns the live count. */
  addReadings(readings: readonly Reading[]): number {
    let start = 0;
    while (start < readings.length && (readings[start].ts < this.startedAt || readings[start].ts <= this.restoredTs)) start++;
    if (start === readings.length) return this.counter.count;
    const mine = start === 0 ? readings : readings.slice(start);
    if (!this.held) return this.counter.push(mine);
    if (mine[0].ts < this.firstLiveTs) this.firstLiveTs = mine[0].ts;
    if (this.held.heldCount < MAX_HELD_READINGS) {
      this.held.readings.push(mine as Reading[]);
      this.held.heldCount += mine.length;
    }
    return this.counter.count;
  }

  addWindow(windowStart: number, label: string): void {
    if (windowStart <= this.restoredWindow) return;
    if (!this.held) {
      this.tally.add(label);
      return;
    }
    if (windowStart < this.firstLiveWindow) this.firstLiveWindow = windowStart;
    this.held.windows.push({ start: windowStart, label });
  }

  get liveReps(): number {
    return this.counter.count;
  }

  /** Final results over everything seen (call after whenRestored()). */
  finish(): { reps: number; predictedLabel?: string } {
    const reps = this.counter.finish();
    return this.tally.windows > 0 ? { reps, predictedLabel: this.tally.result().label } : { reps };
  }

  private async restore(sources: TrackerSources, now: number): Promise<void> {
    // let the caller hand over the first live readings first, so the cut between past and live is known
    await Promise.resolve();
    let cursor: string | undefined;
    do {
      const page = await sources.predictions.list({ sessionId: this.id, limit: RESTORE_PAGE, cursor });
      for (const p of page.items) {
        if (p.windowStart >= this.firstLiveWindow) break;
        this.tally.add(p.label);
        this.restoredWindow = p.windowStart;
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    if (!sources.readings) return;
    const to = Math.min(this.firstLiveTs, this.endedAt ?? Number.POSITIVE_INFINITY);
    const from = Math.max(this.startedAt, Math.min(to, now) - RESTORE_MAX_MS);
    for await (const chunk of sources.readings.iterate(this.deviceId, from, Number.isFinite(to) ? to : undefined)) {
      let end = chunk.length;
      while (end > 0 && chunk[end - 1].ts >= this.firstLiveTs) end--;
      if (end === 0) continue;
      this.counter.push(end === chunk.length ? chunk : chunk.slice(0, end));
      this.restoredTs = chunk[end - 1].ts;
    }
  }

  private release(): void {
    const held = this.held;
    this.held = undefined;
    if (!held) return;
    for (const w of held.windows) if (w.start > this.restoredWindow) this.tally.add(w.label);
    for (const readings of held.readings) {
      if (readings[readings.length - 1].ts <= this.restoredTs) continue;
      this.counter.push(readings[0].ts > this.restoredTs ? readings : readings.filter((r) => r.ts > this.restoredTs));
    }
  }
}
