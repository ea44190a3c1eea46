import { ModelError } from './errors.js';

/**
 * Temporal smoothing of window probabilities: a window's reported probabilities are an exponential moving
 * average over the windows of the same continuous stretch of one device's stream, the newest included and
 * nothing later (causal: live, the future is not known). One 2.56 s window holds half a rep of a slow lifter;
 * the exercise does not change from one window to the next, so averaging the forest's votes over the last
 * few seconds cancels much of its window-to-window noise (leave-one-lifter-out: +0.04 to +0.07 macro-F1,
 * scripts/cross-validate.ts). The price: a change of exercise shows in the label a few seconds late.
 *
 * The average restarts (forgets the past) at the start of a gap-free segment (a gap in the stream), at a
 * still window (rest: a set ended or paused), when the candidates change and when a session starts. Live
 * recognition (live.ts), offline evaluation (evaluate.ts) and hub training's held-out scores all use this
 * class with those rules, so evaluation scores windows as the hub reports them.
 */
export interface SmoothingSettings {
  method: 'ema';
  /** Time constant of the average (s): a window's weight falls to 1/e after this long. */
  timeConstantS: number;
}

/** What a model trained by this build records (train.ts); a model file without `smoothing` is not smoothed. */
export const DEFAULT_SMOOTHING: SmoothingSettings = { method: 'ema', timeConstantS: 5 };

export class ProbabilitySmoother {
  /** Weight of the newest window; 1 = no smoothing. */
  readonly alpha: number;
  private readonly state: Float64Array;
  private empty = true;

  /**
   * @param settings the model's smoothing, undefined for none
   * @param hopS time between the starts of consecutive windows (s); live overlap is configurable, so the
   *   weight per window is derived from it and the average spans the same time whatever the overlap
   */
  constructor(settings: SmoothingSettings | undefined, classCount: number, hopS: number) {
    this.alpha = settings ? 1 - Math.exp(-hopS / settings.timeConstantS) : 1;
    this.state = new Float64Array(classCount);
  }

  get enabled(): boolean {
    return this.alpha < 1;
  }

  /** Forgets the past: the next window starts the average again. */
  reset(): void {
    this.empty = true;
  }

  /** Replaces p (one window's class probabilities) by the average up to and including it; returns p. */
  apply(p: Float64Array): Float64Array {
    const s = this.state;
    if (this.empty || this.alpha >= 1) {
      s.set(p);
      this.empty = false;
      return p;
    }
    for (let k = 0; k < p.length; k++) {
      s[k] += this.alpha * (p[k] - s[k]);
      p[k] = s[k];
    }
    return p;
  }
}

/** Checks a model file's `smoothing` field; throws ModelError invalid_model. */
export function parseSmoothing(value: unknown): SmoothingSettings | undefined {
  if (value === undefined) return undefined;
  const s = value as Partial<SmoothingSettings> | null;
  if (!s || typeof s !== 'object' || s.method !== 'ema') {
    throw new ModelError('invalid_model', 'invalid model file: smoothing.method must be "ema"');
  }
  if (typeof s.timeConstantS !== 'number' || !(s.timeConstantS > 0) || !Number.isFinite(s.timeConstantS)) {
    throw new ModelError('invalid_model', 'invalid model file: smoothing.timeConstantS must be a positive number');
  }
  return { method: 'ema', timeConstantS: s.timeConstantS };
}
