import type { FeatureExtractor } from './features/extractor.js';
import { FEATURE_COUNT } from './features/feature-list.js';
import type { CandidateMask, Recognizer } from './recognizer.js';
import { StreamingResampler } from './resample.js';
import { CHANNEL_COUNT, type Sample } from './sample.js';
import type { ProbabilitySmoother } from './smoothing.js';
import { windowShape, type WindowShape } from './windowing.js';

export interface LivePrediction {
  windowStart: number;
  windowEnd: number;
  label: string;
  confidence: number;
  probabilities: Record<string, number>;
  modelVersion: string;
}

export interface LiveRecognizerOptions {
  /** Candidate classes (a station's possible exercises); undefined = all. */
  candidates?: readonly string[];
  /** Window overlap for live use; the model's by default. Window length and rate always come from the model. */
  overlap?: number;
  /** A gap longer than this restarts windowing; the model's maxGapMs by default. */
  maxGapMs?: number;
}

/**
 * Live recognition for one device: readings in (any rate, with drops and gaps), one prediction per
 * completed window out. Holds only a window's worth of resampled signal. A window's probabilities are
 * averaged with the preceding windows of the same gap-free stretch as the model says (smoothing.ts); the
 * average restarts at a gap, a still window, a change of candidates and restartSmoothing().
 */
export class LiveRecognizer {
  private readonly recognizer: Recognizer;
  private readonly shape: WindowShape;
  private readonly resampler: StreamingResampler;
  private readonly buffer: Float64Array[];
  private readonly features = new Float64Array(FEATURE_COUNT);
  private readonly extractor: FeatureExtractor;
  private readonly periodMs: number;
  private readonly smoother: ProbabilitySmoother;
  private filled = 0;
  private bufferStartMs = 0;
  private mask: CandidateMask | undefined;
  private out: LivePrediction[] = [];

  constructor(recognizer: Recognizer, options: LiveRecognizerOptions = {}) {
    this.recognizer = recognizer;
    const model = recognizer.model;
    this.shape = windowShape(model.rateHz, { windowS: model.windowS, overlap: options.overlap ?? model.overlap });
    this.periodMs = 1000 / model.rateHz;
    this.extractor = recognizer.createExtractor();
    this.buffer = Array.from({ length: CHANNEL_COUNT }, () => new Float64Array(this.shape.length));
    this.mask = recognizer.candidateMask(options.candidates);
    this.smoother = recognizer.createSmoother(this.shape.hop / model.rateHz);
    this.resampler = new StreamingResampler(
      {
        segmentStart: (t0Ms) => {
          this.filled = 0;
          this.bufferStartMs = t0Ms;
          this.smoother.reset();
        },
        sample: (_tMs, values) => this.addSample(values),
      },
      { rateHz: model.rateHz, maxGapMs: options.maxGapMs ?? model.maxGapMs },
    );
  }

  get modelVersion(): string {
    return this.recognizer.version;
  }

  /** Throws ModelError 'unknown_class' (and keeps the previous candidates) for a class the model lacks. */
  setCandidates(candidates: readonly string[] | undefined): void {
    this.mask = this.recognizer.candidateMask(candidates);
    // probabilities renormalised over other classes do not average with the new ones
    this.smoother.reset();
  }

  /** The next window starts the probability average again (a session started: a new set). */
  restartSmoothing(): void {
    this.smoother.reset();
  }

  /** Readings in time order (a batch that is not is sorted); returns the windows completed by them. */
  push(readings: readonly Sample[]): LivePrediction[] {
    this.out = [];
    let sorted = true;
    for (let i = 1; i < readings.length; i++) if (readings[i].ts < readings[i - 1].ts) sorted = false;
    for (const r of sorted ? readings : [...readings].sort((a, b) => a.ts - b.ts)) this.resampler.push(r);
    return this.out;
  }

  /** Forgets buffered signal (e.g. when a session ends). */
  reset(): void {
    this.resampler.reset();
    this.filled = 0;
    this.smoother.reset();
  }

  private addSample(values: Float64Array): void {
    const n = this.shape.length;
    for (let c = 0; c < CHANNEL_COUNT; c++) this.buffer[c][this.filled] = values[c];
    this.filled++;
    if (this.filled < n) return;
    const p = this.recognizer.classifyWindow(this.buffer, 0, this.extractor, this.features, this.mask, this.smoother);
    this.out.push({
      windowStart: this.bufferStartMs,
      windowEnd: this.bufferStartMs + n * this.periodMs,
      label: p.label,
      confidence: p.confidence,
      probabilities: p.probabilities,
      modelVersion: this.recognizer.version,
    });
    const hop = Math.min(this.shape.hop, n);
    for (let c = 0; c < CHANNEL_COUNT; c++) this.buffer[c].copyWithin(0, hop, n);
    this.filled = n - hop;
    this.bufferStartMs += hop * this.periodMs;
  }
}
