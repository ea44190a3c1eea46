import { stretchSegment } from './augment.js';
import { ModelError } from './errors.js';
import { FeatureExtractor } from './features/extractor.js';
import { FEATURE_COUNT, FEATURE_VERSION, INVARIANT_FEATURES } from './features/feature-list.js';
import { DEFAULT_FOREST_OPTIONS, trainForest, type ForestTrainOptions } from './forest-train.js';
import {
  DEFAULT_MOTION_GATE,
  DEFAULT_UNKNOWN_THRESHOLD,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  modelVersionOf,
  type ModelFile,
  type MotionGate,
} from './model-file.js';
import { motionLevel } from './motion.js';
import { DEFAULT_MAX_GAP_MS, DEFAULT_RATE_HZ, resample } from './resample.js';
import type { Sample } from './sample.js';
import { DEFAULT_SMOOTHING, type SmoothingSettings } from './smoothing.js';
import { DEFAULT_OVERLAP, DEFAULT_WINDOW_S, segmentWindows, windowShape } from './windowing.js';

/** One labelled stretch of readings: a recording file, or a labelled session from a hub. */
export interface LabelledRecording {
  label: string;
  samples: readonly Sample[];
  /** Who or where it came from (lifter, hub, device): for grouped evaluation; not used by training. */
  group?: string;
}

export interface TrainOptions {
  rateHz?: number;
  windowS?: number;
  /** Window overlap recorded in the model for live use. */
  overlap?: number;
  /** Overlap of the training windows (more overlap = more, more correlated, rows). */
  trainOverlap?: number;
  maxGapMs?: number;
  /** 'invariant' (default): orientation-invariant features only; 'all'; or explicit feature indices. */
  featurePool?: 'invariant' | 'all' | readonly number[];
  forest?: ForestTrainOptions;
  motionGate?: MotionGate;
  unknownThreshold?: number;
  /** Temporal smoothing the model asks its users to apply (smoothing.ts); DEFAULT_SMOOTHING by default. */
  smoothing?: SmoothingSettings | 'none';
  /**
   * Tempo augmentation (augment.ts): each training recording is added again done at these speed factors
   * (2 = twice as slow). Empty: none.
   */
  augmentSpeeds?: readonly number[];
  /** Extra facts to record in the model's `training` field (e.g. the data set's name). */
  notes?: Record<string, unknown>;
}

export interface TrainingSet {
  classes: string[];
  rows: Float64Array[];
  labels: number[];
  groups: string[];
  /** Windows left out as rest by the motion gate. */
  restWindows: number;
}

interface ResolvedSettings {
  rateHz: number;
  windowS: number;
  overlap: number;
  trainOverlap: number;
  maxGapMs: number;
  motionGate: MotionGate;
}

function settingsOf(options: TrainOptions): ResolvedSettings {
  const overlap = options.overlap ?? DEFAULT_OVERLAP;
  return {
    rateHz: options.rateHz ?? DEFAULT_RATE_HZ,
    windowS: options.windowS ?? DEFAULT_WINDOW_S,
    overlap,
    trainOverlap: options.trainOverlap ?? overlap,
    maxGapMs: options.maxGapMs ?? DEFAULT_MAX_GAP_MS,
    motionGate: options.motionGate ?? DEFAULT_MOTION_GATE,
  };
}

/** Windows and features of every recording; still windows (the motion gate says rest) are left out. */
export function buildTrainingSet(recordings: readonly LabelledRecording[], options: TrainOptions = {}): TrainingSet {
  const s = settingsOf(options);
  const classes = [...new Set(recordings.map((r) => r.label))].sort();
  const shape = windowShape(s.rateHz, { windowS: s.windowS, overlap: s.trainOverlap });
  const extractor = new FeatureExtractor(shape.length, s.rateHz);
  const set: TrainingSet = { classes, rows: [], labels: [], groups: [], restWindows: 0 };
  const speeds = [1, ...(options.augmentSpeeds ?? []).filter((v) => v !== 1)];
  for (const recording of recordings) {
    const label = classes.indexOf(recording.label);
    const original = resample(recording.samples, { rateHz: s.rateHz, maxGapMs: s.maxGapMs });
    const segments = speeds.flatMap((speed) => (speed === 1 ? original : original.map((seg) => stretchSegment(seg, speed))));
    for (const segment of segments) {
      for (const w of segmentWindows(segment, shape)) {
        const motion = motionLevel(segment.columns, w.offset, w.length);
        if (motion.accStd < s.motionGate.accStdMax && motion.gyroStd < s.motionGate.gyroStdMax) {
          set.restWindows++;
          continue;
        }
        set.rows.push(extractor.extract(segment.columns, w.offset));
        set.labels.push(label);
        set.groups.push(recording.group ?? '');
      }
    }
  }
  return set;
}

export function featurePoolOf(pool: TrainOptions['featurePool']): readonly number[] | undefined {
  if (pool === undefined || pool === 'invariant') return INVARIANT_FEATURES;
  if (pool === 'all') return undefined;
  return pool;
}

/** Trains a model on a prepared training set (cross-validation reuses one set for every fold). */
export function trainModelFromSet(set: TrainingSet, options: TrainOptions = {}): ModelFile {
  if (set.rows.length === 0) throw new ModelError('invalid_dataset', 'no training windows: recordings too short or too still');
  const presentClasses = new Set(set.labels);
  if (presentClasses.size < 2) throw new ModelError('invalid_dataset', 'training needs windows of at least two exercises');
  const s = settingsOf(options);
  const smoothing = options.smoothing ?? DEFAULT_SMOOTHING;
  const forestOptions = { ...DEFAULT_FOREST_OPTIONS, ...options.forest };
  const forest = trainForest(set.rows, set.labels, set.classes.length, {
    ...forestOptions,
    featurePool: featurePoolOf(options.featurePool),
  });
  const windowsPerClass: Record<string, number> = {};
  set.classes.forEach((c, i) => (windowsPerClass[c] = set.labels.filter((y) => y === i).length));
  const content: Omit<ModelFile, 'version'> = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    featureVersion: FEATURE_VERSION,
    featureCount: FEATURE_COUNT,
    classes: set.classes,
    rateHz: s.rateHz,
    windowS: s.windowS,
    overlap: s.overlap,
    maxGapMs: s.maxGapMs,
    motionGate: s.motionGate,
    unknownThreshold: options.unknownThreshold ?? DEFAULT_UNKNOWN_THRESHOLD,
    ...(smoothing === 'none' ? {} : { smoothing: { ...smoothing } }),
    training: {
      trainer: 'gymhub-cart',
      forest: forestOptions,
      featurePool: Array.isArray(options.featurePool) ? 'custom' : (options.featurePool ?? 'invariant'),
      trainOverlap: s.trainOverlap,
      augmentSpeeds: [...(options.augmentSpeeds ?? [])],
      windowsPerClass,
      restWindowsLeftOut: set.restWindows,
      groups: [...new Set(set.groups)].filter((g) => g !== '').sort(),
      ...options.notes,
    },
    forest,
  };
  return { ...content, version: modelVersionOf(content) };
}

export function trainModel(recordings: readonly LabelledRecording[], options: TrainOptions = {}): ModelFile {
  return trainModelFromSet(buildTrainingSet(recordings, options), options);
}

/** The rows whose group passes `keep` (leave-one-group-out training sets). */
export function subsetTrainingSet(set: TrainingSet, keep: (group: string) => boolean): TrainingSet {
  const out: TrainingSet = { classes: set.classes, rows: [], labels: [], groups: [], restWindows: 0 };
  set.rows.forEach((row, i) => {
    if (!keep(set.groups[i])) return;
    out.rows.push(row);
    out.labels.push(set.labels[i]);
    out.groups.push(set.groups[i]);
  });
  return out;
}
