import { LiveRecognizer, type Recognizer } from '../../models/index.js';
import type { RateLimitedLog } from './rate-limited-log.js';
import type { SessionTracker } from './session-tracker.js';

/** What recognition keeps per streaming device. */
export interface DeviceState {
  live: LiveRecognizer;
  /** The candidates `live` was set up with, as a comparable string. */
  candidatesKey: string;
  lastSeenMs: number;
  /** The device's active session, when it has one. */
  tracker?: SessionTracker;
}

export interface DeviceStatesOptions {
  candidatesFor(deviceId: string): string[] | undefined;
  warnings: RateLimitedLog;
  /** Live window overlap; the model's by default. */
  overlap?: number;
}

/**
 * Every streaming device's live recognizer (windowing buffers, candidates) and session tracker. Memory is
 * bounded by the devices streaming now: sweep() drops those idle for a while.
 */
export class DeviceStates {
  private readonly states = new Map<string, DeviceState>();
  private recognizer: Recognizer | undefined;

  constructor(private readonly options: DeviceStatesOptions) {}

  get size(): number {
    return this.states.size;
  }

  values(): IterableIterator<DeviceState> {
    return this.states.values();
  }

  find(deviceId: string): DeviceState | undefined {
    return this.states.get(deviceId);
  }

  /** The device's state, created on its first readings. */
  get(deviceId: string, now: number): DeviceState {
    let state = this.states.get(deviceId);
    if (!state) {
      const candidates = this.candidates(deviceId);
      state = { live: this.liveRecognizer(candidates), candidatesKey: String(candidates), lastSeenMs: now };
      this.states.set(deviceId, state);
    }
    return state;
  }

  /** A new model: every device's windowing starts again with it (session trackers carry on). */
  use(recognizer: Recognizer): void {
    this.recognizer = recognizer;
    for (const [deviceId, state] of this.states) {
      const candidates = this.candidates(deviceId);
      state.live = this.liveRecognizer(candidates);
      state.candidatesKey = String(candidates);
    }
  }

  /** Follows a change of the device's candidates (its session started, changed or ended). */
  refreshCandidates(deviceId: string): void {
    const state = this.states.get(deviceId);
    if (!state) return;
    const candidates = this.candidates(deviceId);
    const key = String(candidates);
    if (key === state.candidatesKey) return;
    state.candidatesKey = key;
    state.live.setCandidates(candidates);
  }

  /** Drops devices silent for `idleMs` (after `onEvict`) and refreshes the others' candidates. */
  sweep(now: number, idleMs: number, onEvict: (state: DeviceState) => void): void {
    for (const [deviceId, state] of this.states) {
      try {
        if (now - state.lastSeenMs >= idleMs) {
          onEvict(state);
          this.states.delete(deviceId);
        } else {
          this.refreshCandidates(deviceId);
        }
      } catch (err) {
        this.options.warnings.warn(`sweep:${deviceId}`, { err, deviceId }, 'recognition housekeeping failed for a device');
      }
    }
  }

  /** The device's candidates that the model knows (others are logged); undefined = every class. */
  private candidates(deviceId: string): string[] | undefined {
    const wanted = this.options.candidatesFor(deviceId);
    if (!wanted || wanted.length === 0 || !this.recognizer) return undefined;
    const labels = this.recognizer.labels;
    const known = wanted.filter((c) => labels.includes(c));
    if (known.length < wanted.length) {
      const unknown = wanted.filter((c) => !labels.includes(c));
      this.options.warnings.warn(`candidates:${deviceId}`, { deviceId, unknown, model: this.recognizer.version }, 'candidates the model does not know are ignored');
    }
    return known.length > 0 ? known : undefined;
  }

  private liveRecognizer(candidates: string[] | undefined): LiveRecognizer {
    if (!this.recognizer) throw new Error('no model in use');
    return new LiveRecognizer(this.recognizer, { candidates, overlap: this.options.overlap });
  }
}
