import { CHANNEL_COUNT, type Sample } from './sample.js';

/**
 * Real devices send 15-200 Hz with drops, repeats and link gaps of many seconds. Everything downstream
 * (windows, features, reps) wants a fixed rate, so samples are linearly interpolated onto a grid anchored at
 * the first sample of each segment. A gap longer than maxGapMs ends the segment: interpolating across it
 * would invent seconds of motion that never happened.
 */
export const DEFAULT_RATE_HZ = 50;
export const DEFAULT_MAX_GAP_MS = 1000;

export interface ResampleOptions {
  rateHz?: number;
  maxGapMs?: number;
}

/** A stretch of resampled signal without gaps: column arrays ax, ay, az, gx, gy, gz at rateHz. */
export interface Segment {
  t0Ms: number;
  rateHz: number;
  length: number;
  columns: Float64Array[];
}

export interface ResampleSink {
  /** A new segment starts at t0Ms (first call, and after every gap). */
  segmentStart(t0Ms: number): void;
  /** One grid sample; `values` is reused by the resampler: copy what you keep. */
  sample(tMs: number, values: Float64Array): void;
}

/**
 * Incremental resampler: feed samples in time order, receive grid samples as soon as they are determined.
 * resample() below runs this very class over a whole recording, so live and offline results are identical.
 */
export class StreamingResampler {
  readonly rateHz: number;
  readonly maxGapMs: number;
  private readonly periodMs: number;
  private readonly sink: ResampleSink;
  private readonly prevValues = new Float64Array(CHANNEL_COUNT);
  private readonly out = new Float64Array(CHANNEL_COUNT);
  private prevTs = Number.NaN;
  private t0Ms = 0;
  private nextIndex = 0;
  /** Samples dropped because they were older than, or at the same time as, the previous one. */
  dropped = 0;

  constructor(sink: ResampleSink, options: ResampleOptions = {}) {
    this.rateHz = options.rateHz ?? DEFAULT_RATE_HZ;
    this.maxGapMs = options.maxGapMs ?? DEFAULT_MAX_GAP_MS;
    if (!(this.rateHz > 0) || !(this.maxGapMs > 0)) throw new RangeError('rateHz and maxGapMs must be positive');
    this.periodMs = 1000 / this.rateHz;
    this.sink = sink;
  }

  /** Forgets the current segment: the next sample starts a new one. */
  reset(): void {
    this.prevTs = Number.NaN;
  }

  push(sample: Sample): void {
    const ts = sample.ts;
    if (Number.isNaN(this.prevTs) || ts - this.prevTs > this.maxGapMs) {
      this.startSegment(sample);
      return;
    }
    if (ts <= this.prevTs) {
      this.dropped++;
      return;
    }
    const span = ts - this.prevTs;
    const a = sample.accel;
    const g = sample.gyro;
    for (let t = this.t0Ms + this.nextIndex * this.periodMs; t <= ts; t = this.t0Ms + this.nextIndex * this.periodMs) {
      const w = (t - this.prevTs) / span;
      const p = this.prevValues;
      const out = this.out;
      out[0] = p[0] + (a[0] - p[0]) * w;
      out[1] = p[1] + (a[1] - p[1]) * w;
      out[2] = p[2] + (a[2] - p[2]) * w;
      out[3] = p[3] + (g[0] - p[3]) * w;
      out[4] = p[4] + (g[1] - p[4]) * w;
      out[5] = p[5] + (g[2] - p[5]) * w;
      this.sink.sample(t, out);
      this.nextIndex++;
    }
    this.remember(sample);
  }

  private startSegment(sample: Sample): void {
    this.t0Ms = sample.ts;
    this.nextIndex = 1;
    this.remember(sample);
    this.sink.segmentStart(sample.ts);
    this.out.set(this.prevValues);
    this.sink.sample(sample.ts, this.out);
  }

  private remember(sample: Sample): void {
    this.prevTs = sample.ts;
    const p = this.prevValues;
    p[0] = sample.accel[0];
    p[1] = sample.accel[1];
    p[2] = sample.accel[2];
    p[3] = sample.gyro[0];
    p[4] = sample.gyro[1];
    p[5] = sample.gyro[2];
  }
}

/** Resamples a whole recording (sorted by time first) into gap-free segments. */
export function resample(samples: readonly Sample[], options: ResampleOptions = {}): Segment[] {
  const rateHz = options.rateHz ?? DEFAULT_RATE_HZ;
  const segments: { t0Ms: number; values: number[][] }[] = [];
  let current: number[][] = [];
  const resampler = new StreamingResampler(
    {
      segmentStart(t0Ms) {
        current = Array.from({ length: CHANNEL_COUNT }, () => []);
        segments.push({ t0Ms, values: current });
      },
      sample(_tMs, values) {
        for (let c = 0; c < CHANNEL_COUNT; c++) current[c].push(values[c]);
      },
    },
    options,
  );
  const sorted = isSorted(samples) ? samples : [...samples].sort((x, y) => x.ts - y.ts);
  for (const s of sorted) resampler.push(s);
  return segments.map((s) => ({
    t0Ms: s.t0Ms,
    rateHz,
    length: s.values[0].length,
    columns: s.values.map((v) => Float64Array.from(v)),
  }));
}

function isSorted(samples: readonly Sample[]): boolean {
  for (let i = 1; i < samples.length; i++) if (samples[i].ts < samples[i - 1].ts) return false;
  return true;
}
