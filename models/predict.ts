import { ModelError } from './errors.js';
import { LiveRecognizer, type LivePrediction } from './live.js';
import { sessionLabel } from './session-label.js';
import type { Recognizer } from './recognizer.js';
import { countRepsInSegments } from './reps.js';
import { resample } from './resample.js';
import type { Sample } from './sample.js';

export interface PredictOptions {
  candidates?: readonly string[];
}

export interface PredictResult {
  modelVersion: string;
  /** Vote of the windows (rest and unknown aside); `rest` or `unknown` when no window names an exercise. */
  label: string;
  /** Share of windows that voted for `label`. */
  confidence: number;
  predictions: LivePrediction[];
  reps: number;
}

const MAX_READINGS = 200_000;

/**
 * Stateless recognition of a batch of readings (POST /predict). Throws ModelError 'invalid_sample' for a
 * reading that is not {ts, accel: [x, y, z], gyro: [x, y, z]} with finite numbers, 'too_few_samples' when
 * there is not one complete window without a gap, and 'unknown_class' for a candidate the model lacks.
 */
export function predictReadings(recognizer: Recognizer, readings: unknown, options: PredictOptions = {}): PredictResult {
  const samples = validateReadings(readings);
  const model = recognizer.model;
  const segments = resample(samples, { rateHz: model.rateHz, maxGapMs: model.maxGapMs });
  const longest = segments.reduce((m, s) => Math.max(m, s.length), 0);
  if (longest < recognizer.shape.length) {
    throw new ModelError(
      'too_few_samples',
      `need at least ${model.windowS} s of readings without a gap over ${model.maxGapMs} ms ` +
        `(${recognizer.shape.length} samples at ${model.rateHz} Hz); the longest stretch has ${longest}`,
      { required: recognizer.shape.length, longest },
    );
  }
  const live = new LiveRecognizer(recognizer, { candidates: options.candidates });
  const sorted = [...samples].sort((a, b) => a.ts - b.ts);
  const predictions = live.push(sorted);
  const { label, confidence } = sessionLabel(predictions.map((p) => p.label));
  return {
    modelVersion: recognizer.version,
    label,
    confidence,
    predictions,
    reps: countRepsInSegments(segments, { rateHz: model.rateHz }).reps,
  };
}

function validateReadings(readings: unknown): Sample[] {
  if (!Array.isArray(readings)) throw new ModelError('invalid_sample', 'readings must be an array');
  if (readings.length > MAX_READINGS) {
    throw new ModelError('invalid_sample', `at most ${MAX_READINGS} readings per request, got ${readings.length}`);
  }
  if (readings.length === 0) throw new ModelError('too_few_samples', 'no readings', { required: 1, longest: 0 });
  return readings.map((r, index) => {
    const reason = invalidReason(r);
    if (reason) throw new ModelError('invalid_sample', `reading ${index}: ${reason}`, { index, reason });
    const s = r as Sample;
    return { ts: s.ts, accel: [s.accel[0], s.accel[1], s.accel[2]], gyro: [s.gyro[0], s.gyro[1], s.gyro[2]] };
  });
}

function invalidReason(r: unknown): string | undefined {
  if (!r || typeof r !== 'object') return 'not an object';
  const { ts, accel, gyro } = r as Record<string, unknown>;
  if (typeof ts !== 'number' || !Number.isFinite(ts)) return 'ts must be a finite number (ms)';
  for (const [name, v] of [
    ['accel', accel],
    ['gyro', gyro],
  ] as const) {
    if (!Array.isArray(v) || v.length !== 3) return `${name} must be [x, y, z]`;
    if (!v.every((x) => typeof x === 'number' && Number.isFinite(x))) return `${name} must hold finite numbers`;
  }
  return undefined;
}
