import { ModelError } from './errors.js';
import { FeatureExtractor } from './features/extractor.js';
import { FEATURE_COUNT } from './features/feature-list.js';
import { CompiledForest } from './forest.js';
import type { ModelFile } from './model-file.js';
import { motionLevel, type MotionLevel } from './motion.js';
import { windowShape, type WindowShape } from './windowing.js';

export const REST_LABEL = 'rest';
export const UNKNOWN_LABEL = 'unknown';

export interface WindowPrediction {
  label: string;
  confidence: number;
  /** Per class (the model's exercises and `rest`); restricted classes are 0. */
  probabilities: Record<string, number>;
}

/** A compiled candidate set: which forest classes are allowed. */
export type CandidateMask = Uint8Array;

/**
 * A loaded model, ready to classify windows. Immutable and shared: per-device state (buffers, candidates)
 * lives in the callers (LiveRecognizer, predictReadings), each with its own FeatureExtractor.
 */
export class Recognizer {
  readonly model: ModelFile;
  readonly version: string;
  /** The forest's classes (exercises). */
  readonly classes: readonly string[];
  /** Every label a prediction can carry: the classes, `rest` and `unknown`. */
  readonly labels: readonly string[];
  readonly shape: WindowShape;
  private readonly forest: CompiledForest;
  private readonly proba: Float64Array;

  constructor(model: ModelFile) {
    this.model = model;
    this.version = model.version;
    this.classes = [...model.classes];
    this.labels = [...model.classes, REST_LABEL, UNKNOWN_LABEL];
    this.forest = CompiledForest.fromJson(model.forest, model.classes.length, FEATURE_COUNT);
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

  /** Classifies the window columns[c][offset .. offset + shape.length). */
  classifyWindow(
    columns: readonly Float64Array[],
    offset: number,
    extractor: FeatureExtractor,
    features: Float64Array,
    mask?: CandidateMask,
  ): WindowPrediction {
    const motion = motionLevel(columns, offset, this.shape.length);
    if (this.isRest(motion)) return this.restPrediction();
    extractor.extract(columns, offset, features);
    return this.classifyFeatures(features, mask);
  }

  isRest(motion: MotionLevel): boolean {
    const gate = this.model.motionGate;
    return motion.accStd < gate.accStdMax && motion.gyroStd < gate.gyroStdMax;
  }

  /** Forest probabilities, renormalised over the candidates when there are any. */
  classifyFeatures(features: ArrayLike<number>, mask?: CandidateMask): WindowPrediction {
    const p = this.forest.predictProba(features, this.proba);
    if (mask) {
      let sum = 0;
      for (let k = 0; k < p.length; k++) {
        if (!mask[k]) p[k] = 0;
        sum += p[k];
      }
      for (let k = 0; k < p.length; k++) p[k] = sum > 0 ? p[k] / sum : 0;
    }
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
