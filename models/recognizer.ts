import { ModelError } from './errors.js';
import { FeatureExtractor } from './features/extractor.js';
import { FEATURE_COUNT } from './features/feature-list.js';
import { CompiledForest } from './forest.js';
import type { ModelFile } from './model-file.js';
import { motionLevel, type MotionLevel } from './motion.js';
import { ProbabilitySmoother } from './smoothing.js';
import { windowShape, type WindowShape } from './windowing.js';

export const REST_LABEL = 'rest';
export const UNKNOWN_LABEL = 'unknown';

export interface WindowPrediction {
  label: string;
  confidence: number;
  /** Per class (the model's exercises and `rest`); restricted classes are 0. */
  probabilities: Record<string, number>;
}

/** A model file's settings: everything but the forest, which a Recognizer keeps only compiled. */
export type ModelSettings = Omit<ModelFile, 'forest'>;

/** A compiled candidate set: which forest classes are allowed. */
export type CandidateMask = Uint8Array;

/**
 * A loaded model, ready to classify windows. Immutable and shared: per-device state (buffers, candidates)
 * lives in the callers (LiveRecognizer, predictReadings), each with its own FeatureExtractor.
 */
export class Recognizer {
  readonly model: ModelSettings;
  readonly version: string;
  /** The forest's classes (exercises). */
  readonly classes: readonly string[];
  /** Every label a prediction can carry: the classes, `rest` and `unknown`. */
  readonly labels: readonly string[];
  readonly shape: WindowShape;
  private readonly forest: CompiledForest;
  private readonly proba: Float64Array;

  constructor(model: ModelFile) {
    // The forest's JSON trees (about 7 MB of objects for the bundled model) are not kept: the hub's
    // recognizer lives as long as the hub, and they were its biggest retainer in a heap snapshot under
    // bench/soak. Predictions use the compiled typed arrays.
    const { forest, ...settings } = model;
    this.model = settings;
    this.version = model.version;
    this.classes = [...model.classes];
    this.labels = [...model.classes, REST_LABEL, UNKNOWN_LABEL];
    this.forest = CompiledForest.fromJson(forest, model.classes.length, FEATURE_COUNT);
    this.shape = windowShape(model.rateHz, { windowS: model.windowS, overlap: model.overlap });
    this.proba = new Float64Array(model.classes.length);
  }

  createExtractor(): FeatureExtractor {
    return new FeatureExtractor(this.shape.length, this.model.rateHz);
  }

  /**
   * Checks candidate classes against the model. `rest` and `unknown` are always possible and may be listed.
   * Undefined or empty means no restriction. Throws ModelError 'unknown_class' for a class the model lacks.
   */
  candidateMask(candidates: readonly string[] | undefined): CandidateMask | undefined {
    if (!candidates || candidates.length === 0) return undefined;
    const mask = new Uint8Array(this.classes.length);
    const unknown: string[] = [];
    for (const c of candidates) {
      const i = this.classes.indexOf(c);
      if (i >= 0) mask[i] = 1;
      else if (c !== REST_LABEL && c !== UNKNOWN_LABEL) unknown.push(c);
    }
    if (unknown.length > 0) {
      throw new ModelError('unknown_class', `the model does not know ${unknown.join(', ')}; it knows ${this.classes.join(', ')}`, {
        unknown,
        classes: this.classes,
      });
    }
    return mask.some((v) => v === 1) ? mask : undefined;
  }

  /**
   * The model's temporal smoothing (smoothing.ts) for one stream of windows; a pass-through when the model
   * has none. `hopS`: time between window starts, the model's overlap by default.
   */
  createSmoother(hopS = this.shape.hop / this.model.rateHz): ProbabilitySmoother {
    return new ProbabilitySmoother(this.model.smoothing, this.classes.length, hopS);
  }

  /**
   * Classifies the window columns[c][offset .. offset + shape.length). With a smoother (the stream's, windows
   * in time order) the probabilities are averaged with the stream's previous windows; a rest window resets it.
   */
  classifyWindow(
    columns: readonly Float64Array[],
    offset: number,
    extractor: FeatureExtractor,
    features: Float64Array,
    mask?: CandidateMask,
    smoother?: ProbabilitySmoother,
  ): WindowPrediction {
    const motion = motionLevel(columns, offset, this.shape.length);
    if (this.isRest(motion)) {
      smoother?.reset();
      return this.restPrediction();
    }
    extractor.extract(columns, offset, features);
    return this.classifyFeatures(features, mask, smoother);
  }

  isRest(motion: MotionLevel): boolean {
    const gate = this.model.motionGate;
    return motion.accStd < gate.accStdMax && motion.gyroStd < gate.gyroStdMax;
  }

  /**
   * Forest probabilities, renormalised over the candidates when there are any, then averaged by the smoother
   * when one is given; the label (or `unknown`) is decided on the result.
   */
  classifyFeatures(features: ArrayLike<number>, mask?: CandidateMask, smoother?: ProbabilitySmoother): WindowPrediction {
    const p = this.forest.predictProba(features, this.proba);
    if (mask) {
      let sum = 0;
      for (let k = 0; k < p.length; k++) {
        if (!mask[k]) p[k] = 0;
        sum += p[k];
      }
      for (let k = 0; k < p.length; k++) p[k] = sum > 0 ? p[k] / sum : 0;
    }
    smoother?.apply(p);
    let best = 0;
    for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
    const probabilities: Record<string, number> = {};
    for (let k = 0; k < p.length; k++) probabilities[this.classes[k]] = p[k];
    probabilities[REST_LABEL] = 0;
    const confidence = p[best];
    const label = confidence >= this.model.unknownThreshold && confidence > 0 ? this.classes[best] : UNKNOWN_LABEL;
    return { label, confidence, probabilities };
  }

  private restPrediction(): WindowPrediction {
    const probabilities: Record<string, number> = {};
    for (const c of this.classes) probabilities[c] = 0;
    probabilities[REST_LABEL] = 1;
    return { label: REST_LABEL, confidence: 1, probabilities };
  }
}
