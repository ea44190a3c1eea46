import { bandPassZeroPhase } from './filters.js';
import FFT from 'fft.js';
import { nextPow2, symmetricEigen3 } from './features/math.js';
import { DEFAULT_MAX_GAP_MS, DEFAULT_RATE_HZ, resample, StreamingResampler, type Segment } from './resample.js';
import type { Sample } from './sample.js';

/**
 * Rep counting: band-pass the acceleration around rep tempo, take its first principal component (the
 * direction the bar moves or tilts most), estimate the rep period from the autocorrelation, then count
 * prominent peaks at least half a period apart. Peaks and troughs are both counted and the smaller count
 * wins: a stray wobble adds an extremum on one side only. Thresholds are relative (to the period and to
 * the set's own peak size), so slow, gentle lifters count like fast ones.
 *
 * A stream that stops for longer than boutGapMs (the link dropped for a while) is split into bouts, and a
 * set's count is that of its largest bout: a set is done in one go, and what precedes a long outage is
 * unracking and set-up, not reps of this set.
 */
export interface RepCountOptions {
  rateHz?: number;
  maxGapMs?: number;
  lowHz?: number;
  highHz?: number;
  /** A peak counts when its prominence reaches this share of the set's reference (3rd largest) prominence. */
  prominence?: number;
  /** Minimum distance between counted peaks, as a share of the estimated period. */
  minDistance?: number;
  boutGapMs?: number;
}

export const DEFAULT_REP_OPTIONS: Required<RepCountOptions> = {
  rateHz: DEFAULT_RATE_HZ,
  maxGapMs: DEFAULT_MAX_GAP_MS,
  lowHz: 0.15,
  highHz: 0.8,
  prominence: 0.3,
  minDistance: 0.5,
  boutGapMs: 30_000,
};

const MIN_SEGMENT_S = 2;
const MIN_PERIOD_S = 1;
const MAX_PERIOD_S = 10;
const DEFAULT_PERIOD_S = 3;
/** Prefer the shortest autocorrelation peak this close to the highest one (the rest are its multiples). */
const HARMONIC_SHARE = 0.8;

export interface RepCountResult {
  /** Reps of the set: the largest bout. */
  reps: number;
  /** Reps per bout, in time order. */
  bouts: number[];
}

export function countReps(samples: readonly Sample[], options: RepCountOptions = {}): RepCountResult {
  const opts = { ...DEFAULT_REP_OPTIONS, ...options };
  return countRepsInSegments(resample(samples, opts), opts);
}

export function countRepsInSegments(segments: readonly Segment[], options: RepCountOptions = {}): RepCountResult {
  const opts = { ...DEFAULT_REP_OPTIONS, ...options };
  const bouts: number[] = [];
  let previousEndMs = Number.NEGATIVE_INFINITY;
  for (const segment of segments) {
    if (bouts.length === 0 || segment.t0Ms - previousEndMs > opts.boutGapMs) bouts.push(0);
    bouts[bouts.length - 1] += countSegment(segment, opts);
    previousEndMs = segment.t0Ms + (segment.length * 1000) / segment.rateHz;
  }
  return { reps: bouts.length > 0 ? Math.max(...bouts) : 0, bouts };
}

function countSegment(segment: Segment, opts: Required<RepCountOptions>): number {
  const fs = segment.rateHz;
  if (segment.length < MIN_SEGMENT_S * fs) return 0;
  const filtered = [0, 1, 2].map((c) => bandPassZeroPhase(segment.columns[c], opts.lowHz, opts.highHz, fs));
  const signal = firstPrincipalComponent(filtered);
  const periodS = estimatePeriodS(signal, fs);
  const minDistance = opts.minDistance * periodS * fs;
  const peaks = countPeaks(signal, minDistance, opts.prominence);
  for (let i = 0; i < signal.length; i++) signal[i] = -signal[i];
  const troughs = countPeaks(signal, minDistance, opts.prominence);
  return Math.min(peaks, troughs);
}

function firstPrincipalComponent(columns: Float64Array[]): Float64Array {
  const n = columns[0].length;
  const m = new Float64Array(9);
  for (let a = 0; a < 3; a++) {
    for (let b = a; b < 3; b++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += columns[a][i] * columns[b][i];
      m[a * 3 + b] = m[b * 3 + a] = s / n;
    }
  }
  const values = new Float64Array(3);
  const vectors = new Float64Array(9);
  symmetricEigen3(m, values, vectors, new Float64Array(9));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = vectors[0] * columns[0][i] + vectors[1] * columns[1][i] + vectors[2] * columns[2][i];
  return out;
}

/** Rep period from the autocorrelation: the shortest strong local maximum between 1 and 10 s. */
export function estimatePeriodS(signal: Float64Array, rateHz: number): number {
  const n = signal.length;
  const minLag = Math.round(MIN_PERIOD_S * rateHz);
  const maxLag = Math.min(n - 2, Math.round(MAX_PERIOD_S * rateHz));
  if (maxLag <= minLag + 1) return DEFAULT_PERIOD_S;
  let energy = 0;
  for (let i = 0; i < n; i++) energy += signal[i] * signal[i];
  if (!(energy > 0)) return DEFAULT_PERIOD_S;
  const ac = autocorrelation(signal, maxLag + 1);
  for (let lag = 0; lag <= maxLag + 1; lag++) ac[lag] /= energy;
  const maxima: number[] = [];
  let best = Number.NEGATIVE_INFINITY;
  for (let lag = minLag + 1; lag <= maxLag; lag++) {
    if (ac[lag] >= ac[lag - 1] && ac[lag] > ac[lag + 1]) {
      maxima.push(lag);
      if (ac[lag] > best) best = ac[lag];
    }
  }
  const threshold = best > 0 ? HARMONIC_SHARE * best : best;
  for (const lag of maxima) if (ac[lag] >= threshold) return lag / rateHz;
  return DEFAULT_PERIOD_S;
}

/** Raw autocorrelation sum_i x[i] x[i + lag] for lags 0..maxLag, by FFT (sessions can be minutes long). */
function autocorrelation(x: Float64Array, maxLag: number): Float64Array {
  const size = nextPow2(2 * x.length);
  const fft = new FFT(size);
  const input = new Array<number>(size).fill(0);
  for (let i = 0; i < x.length; i++) input[i] = x[i];
  const spectrum = fft.createComplexArray() as number[];
  fft.realTransform(spectrum, input);
  fft.completeSpectrum(spectrum);
  for (let k = 0; k < spectrum.length; k += 2) {
    spectrum[k] = spectrum[k] * spectrum[k] + spectrum[k + 1] * spectrum[k + 1];
    spectrum[k + 1] = 0;
  }
  const back = fft.createComplexArray() as number[];
  fft.inverseTransform(back, spectrum);
  const out = new Float64Array(maxLag + 1);
  for (let lag = 0; lag <= maxLag; lag++) out[lag] = back[2 * lag];
  return out;
}

/** Local maxima whose prominence reaches `share` of the 3rd largest one, greedily kept by prominence. */
function countPeaks(x: Float64Array, minDistance: number, share: number): number {
  const n = x.length;
  const candidates: { index: number; prominence: number }[] = [];
  for (let i = 1; i < n - 1; i++) {
    if (!(x[i] > x[i - 1] && x[i] >= x[i + 1])) continue;
    let leftMin = x[i];
    for (let j = i - 1; j >= 0 && x[j] <= x[i]; j--) if (x[j] < leftMin) leftMin = x[j];
    let rightMin = x[i];
    for (let j = i + 1; j < n && x[j] <= x[i]; j++) if (x[j] < rightMin) rightMin = x[j];
    candidates.push({ index: i, prominence: x[i] - Math.max(leftMin, rightMin) });
  }
  if (candidates.length === 0) return 0;
  candidates.sort((a, b) => b.prominence - a.prominence || a.index - b.index);
  const reference = candidates[Math.min(candidates.length - 1, 2)].prominence;
  const kept: number[] = [];
  for (const c of candidates) {
    if (c.prominence < share * reference) break;
    if (kept.every((k) => Math.abs(k - c.index) >= minDistance)) kept.push(c.index);
  }
  return kept.length;
}

export interface RepCounterOptions extends RepCountOptions {
  /** How often the live count is refreshed, in seconds of new signal. */
  recountEveryS?: number;
  /** Signal kept per session; older signal is dropped (its reps stay in the live count). */
  maxBufferS?: number;
}

/**
 * Live rep count of one session. The count is recomputed on the buffered signal as it grows, with the same
 * algorithm as countReps(), so finish() equals an offline count of the whole session. The live count never
 * goes down (a display that counts backwards confuses people); finish() gives the exact final count.
 */
export class RepCounter {
  private readonly opts: Required<RepCountOptions>;
  private readonly recountEvery: number;
  private readonly maxBuffer: number;
  private readonly resampler: StreamingResampler;
  private segments: { t0Ms: number; values: number[][] }[] = [];
  private sinceRecount = 0;
  private bufferedSamples = 0;
  private droppedReps = 0;
  private live = 0;

  constructor(options: RepCounterOptions = {}) {
    this.opts = { ...DEFAULT_REP_OPTIONS, ...options };
    this.recountEvery = Math.round((options.recountEveryS ?? 2) * this.opts.rateHz);
    this.maxBuffer = Math.round((options.maxBufferS ?? 180) * this.opts.rateHz);
    this.resampler = new StreamingResampler(
      {
        segmentStart: (t0Ms) => this.segments.push({ t0Ms, values: [[], [], []] }),
        sample: (_t, v) => {
          const values = this.segments[this.segments.length - 1].values;
          values[0].push(v[0]);
          values[1].push(v[1]);
          values[2].push(v[2]);
          this.sinceRecount++;
          this.bufferedSamples++;
        },
      },
      this.opts,
    );
  }

  /** Adds samples (in time order) and returns the live count. */
  push(samples: readonly Sample[]): number {
    for (const s of samples) this.resampler.push(s);
    if (this.sinceRecount >= this.recountEvery) {
      this.sinceRecount = 0;
      if (this.bufferedSamples > this.maxBuffer) this.trim();
      this.live = Math.max(this.live, this.recount());
    }
    return this.live;
  }

  get count(): number {
    return this.live;
  }

  /** The final count of the session's signal so far. */
  finish(): number {
    return this.recount();
  }

  private recount(): number {
    return this.droppedReps + countRepsInSegments(this.asSegments(), this.opts).reps;
  }

  private asSegments(): Segment[] {
    return this.segments.map((s) => ({
      t0Ms: s.t0Ms,
      rateHz: this.opts.rateHz,
      length: s.values[0].length,
      columns: s.values.map((v) => Float64Array.from(v)),
    }));
  }

  /** Drops the older half of the buffer, keeping the reps counted in it. */
  private trim(): void {
    const before = countRepsInSegments(this.asSegments(), this.opts).reps;
    let toDrop = Math.floor(this.bufferedSamples / 2);
    while (toDrop > 0 && this.segments.length > 0) {
      const first = this.segments[0];
      const len = first.values[0].length;
      if (len <= toDrop && this.segments.length > 1) {
        this.segments.shift();
        this.bufferedSamples -= len;
        toDrop -= len;
      } else {
        const cut = Math.min(toDrop, len - 1);
        for (const v of first.values) v.splice(0, cut);
        first.t0Ms += (cut * 1000) / this.opts.rateHz;
        this.bufferedSamples -= cut;
        toDrop = 0;
      }
    }
    const after = countRepsInSegments(this.asSegments(), this.opts).reps;
    this.droppedReps += Math.max(0, before - after);
  }
}
