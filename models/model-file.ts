import { createHash } from 'node:crypto';
import { ModelError } from './errors.js';
import { FEATURE_COUNT, FEATURE_VERSION } from './features/feature-list.js';
import type { RandomForestJson } from './forest-format.js';
import { parseSmoothing, type SmoothingSettings } from './smoothing.js';

/**
 * The model file: a forest in ml-random-forest's format plus everything needed to use it the way it was
 * trained (rate, window, feature version, classes, rest and unknown rules). Written deterministically:
 * the same training input and seed give the same bytes, and the version is a hash of the content.
 */
export const MODEL_FORMAT = 'gymhub-model';
export const MODEL_FORMAT_VERSION = 1;

/** Windows with less motion than both limits are `rest`, decided before the forest. */
export interface MotionGate {
  /** sqrt of the summed variances of the three accelerometer axes (m/s^2). */
  accStdMax: number;
  /** the same for the gyroscope (rad/s); insensitive to gyro bias. */
  gyroStdMax: number;
}

export interface ModelFile {
  format: typeof MODEL_FORMAT;
  formatVersion: number;
  version: string;
  featureVersion: number;
  featureCount: number;
  /** Forest class index -> label. `rest` and `unknown` are decided outside the forest. */
  classes: string[];
  rateHz: number;
  windowS: number;
  overlap: number;
  maxGapMs: number;
  motionGate: MotionGate;
  /** Top probability (after candidate restriction) below this gives `unknown`. */
  unknownThreshold: number;
  /** Temporal smoothing of window probabilities (smoothing.ts); absent: each window on its own. */
  smoothing?: SmoothingSettings;
  training: Record<string, unknown>;
  metrics?: Record<string, unknown>;
  forest: RandomForestJson;
}

export const DEFAULT_MOTION_GATE: MotionGate = { accStdMax: 0.1, gyroStdMax: 0.05 };
/**
 * Smoothing (smoothing.ts) averages the peaks of single windows away: at 0.3 a fifth of the smoothed windows
 * came out `unknown` leave-one-lifter-out (241 of 1283), at 0.25 one in thirty (42), with the same pooled
 * macro-F1 (0.740 / 0.742) and a better mean and worst lifter (scripts/cross-validate.ts).
 */
export const DEFAULT_UNKNOWN_THRESHOLD = 0.25;

/** Content hash of everything that changes predictions (not metrics, not the version itself). */
export function modelVersionOf(model: Omit<ModelFile, 'version'> | ModelFile): string {
  const { version: _version, metrics: _metrics, ...content } = model as ModelFile;
  const hash = createHash('sha256').update(JSON.stringify(content)).digest('hex');
  return `fv${model.featureVersion}-${hash.slice(0, 12)}`;
}

export function serializeModel(model: ModelFile): string {
  return `${JSON.stringify(model)}\n`;
}

/** Checks a parsed model file; throws ModelError invalid_model / feature_version_mismatch. */
export function parseModel(value: unknown): ModelFile {
  const m = value as Partial<ModelFile> | null;
  const fail = (why: string): never => {
    throw new ModelError('invalid_model', `invalid model file: ${why}`);
  };
  if (!m || typeof m !== 'object') return fail('not an object');
  if (m.format !== MODEL_FORMAT) fail(`format must be "${MODEL_FORMAT}"`);
  if (m.formatVersion !== MODEL_FORMAT_VERSION) fail(`unsupported formatVersion ${String(m.formatVersion)}`);
  if (m.featureVersion !== FEATURE_VERSION || m.featureCount !== FEATURE_COUNT) {
    throw new ModelError(
      'feature_version_mismatch',
      `model uses features v${String(m.featureVersion)} (${String(m.featureCount)}), this build computes v${FEATURE_VERSION} (${FEATURE_COUNT})`,
      { modelFeatureVersion: m.featureVersion, featureVersion: FEATURE_VERSION },
    );
  }
  if (typeof m.version !== 'string' || m.version.length === 0) fail('version missing');
  if (!Array.isArray(m.classes) || m.classes.length === 0 || !m.classes.every((c) => typeof c === 'string')) fail('classes missing');
  if (new Set(m.classes).size !== m.classes!.length) fail('duplicate classes');
  for (const key of ['rateHz', 'windowS', 'overlap', 'maxGapMs', 'unknownThreshold'] as const) {
    if (typeof m[key] !== 'number' || !Number.isFinite(m[key])) fail(`${key} must be a number`);
  }
  if (!(m.rateHz! > 0 && m.windowS! > 0 && m.overlap! >= 0 && m.overlap! < 1 && m.maxGapMs! > 0)) fail('bad window settings');
  const gate = m.motionGate;
  if (!gate || typeof gate.accStdMax !== 'number' || typeof gate.gyroStdMax !== 'number') fail('motionGate missing');
  if (!m.forest || m.forest.name !== 'RFClassifier') fail('forest must be an ml-random-forest RFClassifier');
  parseSmoothing(m.smoothing);
  return m as ModelFile;
}

export function parseModelJson(text: string): ModelFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ModelError('invalid_model', `model file is not JSON: ${(err as Error).message}`);
  }
  return parseModel(value);
}
