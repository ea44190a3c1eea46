import FFT from 'fft.js';
import { nextPow2 } from './math.js';

/**
 * Power spectrum and autocorrelation of windows of one length. One instance per window length owns its
 * FFT tables and buffers (building fft.js tables per window would dominate the cost).
 */
export class SpectrumAnalyzer {
  readonly length: number;
  readonly fftSize: number;
  /** Power of bins 0..fftSize/2 after power(). */
  readonly power: Float64Array;
  /** Normalised autocorrelation (lag 0 = 1) for lags 0..length-1 after autocorrelation(). */
  readonly autocorr: Float64Array;
  private readonly fft: FFT;
  private readonly fft2: FFT;
  private readonly hann: Float64Array;
  private readonly input: number[];
  private readonly input2: number[];
  private readonly out: number[];
  private readonly out2: number[];
  private readonly back2: number[];

  constructor(length: number) {
    this.length = length;
    this.fftSize = Math.max(4, nextPow2(length));
    this.fft = new FFT(this.fftSize);
    // twice the size so that the circular correlation of the zero-padded signal equals the linear one
    this.fft2 = new FFT(this.fftSize * 2);
    this.hann = new Float64Array(length);
    for (let i = 0; i < length; i++) this.hann[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / Math.max(1, length - 1));
    this.input = new Array<number>(this.fftSize).fill(0);
    this.input2 = new Array<number>(this.fftSize * 2).fill(0);
    this.out = this.fft.createComplexArray() as number[];
    this.out2 = this.fft2.createComplexArray() as number[];
    this.back2 = this.fft2.createComplexArray() as number[];
    this.power = new Float64Array(this.fftSize / 2 + 1);
    this.autocorr = new Float64Array(length);
  }

  /** Power spectrum of x - mean under a Hann window. */
  computePower(x: Float64Array, mean: number): void {
    const n = this.length;
    const input = this.input;
    for (let i = 0; i < n; i++) input[i] = (x[i] - mean) * this.hann[i];
    this.fft.realTransform(this.out, input);
    const out = this.out;
    const power = this.power;
    for (let k = 0; k <= this.fftSize / 2; k++) {
      const re = out[2 * k];
      const im = out[2 * k + 1];
      power[k] = re * re + im * im;
    }
  }

  /** Autocorrelation of x - mean, normalised by lag 0 (all zeros for a constant signal). */
  computeAutocorrelation(x: Float64Array, mean: number): void {
    const n = this.length;
    const input = this.input2;
    for (let i = 0; i < n; i++) input[i] = x[i] - mean;
    this.fft2.realTransform(this.out2, input);
    this.fft2.completeSpectrum(this.out2);
    const spec = this.out2;
    for (let k = 0; k < spec.length; k += 2) {
      spec[k] = spec[k] * spec[k] + spec[k + 1] * spec[k + 1];
      spec[k + 1] = 0;
    }
    this.fft2.inverseTransform(this.back2, spec);
    const zero = this.back2[0];
    const ac = this.autocorr;
    if (!(zero > 1e-12)) {
      ac.fill(0);
      return;
    }
    for (let lag = 0; lag < n; lag++) ac[lag] = this.back2[2 * lag] / zero;
  }
}
