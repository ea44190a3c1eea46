/**
 * Second-order IIR sections (RBJ audio-EQ cookbook), Butterworth Q. Used forward only for live signals and
 * forward + backward (zero phase) for whole recordings.
 */
export class Biquad {
  private readonly b0: number;
  private readonly b1: number;
  private readonly b2: number;
  private readonly a1: number;
  private readonly a2: number;
  private x1 = 0;
  private x2 = 0;
  private y1 = 0;
  private y2 = 0;

  private constructor(b0: number, b1: number, b2: number, a0: number, a1: number, a2: number) {
    this.b0 = b0 / a0;
    this.b1 = b1 / a0;
    this.b2 = b2 / a0;
    this.a1 = a1 / a0;
    this.a2 = a2 / a0;
  }

  static lowPass(cutoffHz: number, rateHz: number): Biquad {
    const w = (2 * Math.PI * cutoffHz) / rateHz;
    const alpha = Math.sin(w) / (2 * Math.SQRT1_2);
    const c = Math.cos(w);
    return new Biquad((1 - c) / 2, 1 - c, (1 - c) / 2, 1 + alpha, -2 * c, 1 - alpha);
  }

  static highPass(cutoffHz: number, rateHz: number): Biquad {
    const w = (2 * Math.PI * cutoffHz) / rateHz;
    const alpha = Math.sin(w) / (2 * Math.SQRT1_2);
    const c = Math.cos(w);
    return new Biquad((1 + c) / 2, -(1 + c), (1 + c) / 2, 1 + alpha, -2 * c, 1 - alpha);
  }

  /** Starts from a steady state at `value` (avoids the step response of a signal that does not start at 0). */
  prime(value: number, dcGain: number): void {
    this.x1 = this.x2 = value;
    this.y1 = this.y2 = value * dcGain;
  }

  step(x: number): number {
    const y = this.b0 * x + this.b1 * this.x1 + this.b2 * this.x2 - this.a1 * this.y1 - this.a2 * this.y2;
    this.x2 = this.x1;
    this.x1 = x;
    this.y2 = this.y1;
    this.y1 = y;
    return y;
  }
}

/** Zero-phase band-pass of a whole signal: high-pass then low-pass, each run forward and backward. */
export function bandPassZeroPhase(x: Float64Array, lowHz: number, highHz: number, rateHz: number): Float64Array {
  let y: Float64Array = Float64Array.from(x);
  let mean = 0;
  for (let i = 0; i < y.length; i++) mean += y[i];
  mean /= Math.max(1, y.length);
  for (let i = 0; i < y.length; i++) y[i] -= mean;
  y = runBothWays(y, () => Biquad.highPass(lowHz, rateHz), 0);
  y = runBothWays(y, () => Biquad.lowPass(highHz, rateHz), 1);
  return y;
}

/** Zero-phase low-pass of a whole signal (the level is kept: DC gain 1). */
export function lowPassZeroPhase(x: Float64Array, cutoffHz: number, rateHz: number): Float64Array {
  return runBothWays(x, () => Biquad.lowPass(cutoffHz, rateHz), 1);
}

function runBothWays(x: Float64Array, make: () => Biquad, dcGain: number): Float64Array {
  const n = x.length;
  const out = new Float64Array(n);
  if (n === 0) return out;
  const forward = make();
  forward.prime(x[0], dcGain);
  for (let i = 0; i < n; i++) out[i] = forward.step(x[i]);
  const backward = make();
  backward.prime(out[n - 1], dcGain);
  for (let i = n - 1; i >= 0; i--) out[i] = backward.step(out[i]);
  return out;
}
