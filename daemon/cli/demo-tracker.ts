import type { Clock } from '../clock.js';
import type { EventBus, HubEvents } from '../event-bus.js';
import type { Session } from '../sessions/types.js';
import { clockTime, formatCount, formatDuration } from './text-table.js';

const OWNER = 'demo';
const LABEL_WIDTH = 14;

interface DeviceTally {
  readings: number;
  windows: number;
  labels: Map<string, number>;
  /** Labels of the current set's windows: its vote when the hub keeps no sessions. */
  setLabels: Map<string, number>;
  /** The device's live rep count as the hub last said it. */
  rawReps: number;
  /** rawReps when the set began, for a hub without sessions (its count then runs across sets). */
  repsBaseline: number;
  sessionId: string | undefined;
  set: number;
  sets: Array<{ label: string; reps: number }>;
}

/**
 * Follows the hub's bus for the demo's devices and prints what a person watching wants: one line per
 * classified window with the exercise, its confidence and the reps so far, a line per finished set, and a
 * summary at the end.
 */
export class DemoTracker {
  private readonly tallies = new Map<string, DeviceTally>();
  private readonly deviceWidth: number;

  constructor(private readonly out: NodeJS.WritableStream, deviceIds: string[], private readonly clock: Clock) {
    for (const id of deviceIds) {
      this.tallies.set(id, { readings: 0, windows: 0, labels: new Map(), setLabels: new Map(), rawReps: 0, repsBaseline: 0, sessionId: undefined, set: 0, sets: [] });
    }
    this.deviceWidth = Math.max(...deviceIds.map((id) => id.length));
  }

  attach(bus: EventBus): void {
    bus.on('readings', OWNER, (event) => this.onReadings(event));
    bus.on('prediction', OWNER, (event) => this.onPrediction(event));
    bus.on('reps', OWNER, (event) => this.onReps(event));
  }

  detach(bus: EventBus): void {
    bus.removeListeners(OWNER);
  }

  /** A set begins (in the given session, when the hub keeps sessions). */
  setStarted(deviceId: string, sessionId: string | undefined): void {
    const tally = this.tallies.get(deviceId);
    if (!tally) return;
    tally.set++;
    tally.sessionId = sessionId;
    tally.setLabels.clear();
    tally.repsBaseline = tally.rawReps;
  }

  /** A set is over (complete, or cut short by the stop): prints its line, the session's verdict when there is one, else the demo's own tally. */
  setEnded(deviceId: string, session: Session | undefined, recordedReps: number | undefined, complete: boolean): void {
    const tally = this.tallies.get(deviceId);
    if (!tally) return;
    const label = session?.predictedLabel ?? topLabel(tally.setLabels) ?? 'no prediction';
    const reps = session?.reps ?? this.setReps(tally);
    tally.sets.push({ label, reps });
    tally.sessionId = undefined;
    const truth = recordedReps === undefined || !complete ? '' : ` (the recording has ${recordedReps})`;
    this.out.write(`${clockTime(this.clock.now())}  ${deviceId.padEnd(this.deviceWidth)}  set ${tally.set} ${complete ? 'done' : 'stopped'}: ${label}, ${reps} ${reps === 1 ? 'rep' : 'reps'}${truth}\n`);
  }

  /** True once any demo device had a window classified. */
  get sawPredictions(): boolean {
    return [...this.tallies.values()].some((t) => t.windows > 0);
  }

  summary(elapsedMs: number): string {
    const lines = [`Summary after ${formatDuration(elapsedMs / 1000)}:`];
    for (const [deviceId, tally] of this.tallies) {
      const labels = [...tally.labels.entries()].sort((a, b) => b[1] - a[1]).map(([label, n]) => `${label} ${n}`).join(', ');
      const sets = tally.sets.map((s) => `${s.label} x${s.reps}`).join(', ');
      lines.push(
        `  ${deviceId.padEnd(this.deviceWidth)}  ${formatCount(tally.readings)} readings, ${tally.windows} windows${labels ? ` (${labels})` : ''}` +
          `${sets ? `; sets: ${sets}` : ''}`,
      );
    }
    if (!this.sawPredictions) lines.push('  No predictions: live recognition is not running in this hub.');
    return `${lines.join('\n')}\n`;
  }

  private onReadings(event: HubEvents['readings']): void {
    for (const reading of event.readings) {
      const tally = this.tallies.get(reading.deviceId);
      if (tally) tally.readings++;
    }
  }

  private onPrediction(p: HubEvents['prediction']): void {
    const tally = this.tallies.get(p.deviceId);
    if (!tally) return;
    tally.windows++;
    tally.labels.set(p.label, (tally.labels.get(p.label) ?? 0) + 1);
    tally.setLabels.set(p.label, (tally.setLabels.get(p.label) ?? 0) + 1);
    this.out.write(`${clockTime(p.windowEnd)}  ${p.deviceId.padEnd(this.deviceWidth)}  ${p.label.padEnd(LABEL_WIDTH)} (${p.confidence.toFixed(2)})  reps ${this.setReps(tally)}\n`);
  }

  private onReps(event: HubEvents['reps']): void {
    const tally = this.tallies.get(event.deviceId);
    if (!tally) return;
    // A session's count starts at 0 with the session; without sessions the count runs on across sets.
    if (event.sessionId !== undefined) {
      if (event.sessionId !== tally.sessionId) return; // a finished set's late count
      tally.repsBaseline = 0;
    }
    tally.rawReps = event.reps;
  }

  private setReps(tally: DeviceTally): number {
    return Math.max(0, tally.rawReps - tally.repsBaseline);
  }
}

function topLabel(labels: Map<string, number>): string | undefined {
  let best: string | undefined;
  let count = 0;
  for (const [label, n] of labels) {
    if (label === 'rest' || label === 'unknown') continue;
    if (n > count) [best, count] = [label, n];
  }
  return best ?? (labels.size > 0 ? [...labels.entries()].sort((a, b) => b[1] - a[1])[0][0] : undefined);
}
