import { loadRecordings } from './dataset.js';
import { FEATURE_COUNT } from './features/feature-list.js';
import { scoreClassification, scoreReps, voteLabel, type ClassificationScores, type RepScores } from './metrics.js';
import { REST_LABEL, UNKNOWN_LABEL, type Recognizer } from './recognizer.js';
import { countRepsInSegments, type RepCountOptions } from './reps.js';
import { resample } from './resample.js';
import type { Sample } from './sample.js';
import type { SmoothingSettings } from './smoothing.js';
import { segmentWindows } from './windowing.js';

/** One labelled set to evaluate on: a recording file or a labelled session. */
export interface EvaluationSet {
  name: string;
  label: string;
  group?: string;
  /** Reps actually done, when known. */
  reps?: number;
  samples: readonly Sample[];
}

export interface EvaluateOptions {
  /**
   * Restrict recognition to these classes, as a session's candidates do. Sets of other exercises are then
   * left out (counted in skippedSets): a station with candidates never sees them, and scoring them would
   * only measure that they cannot be recognised.
   */
  candidates?: readonly string[];
  repOptions?: RepCountOptions;
  /**
   * Score windows as the hub reports them, with the model's temporal smoothing (default true; smoothing.ts):
   * each set is a stream of its own, the average restarting at its start, at gaps and at still windows.
   * false: every window on its own.
   */
  smoothing?: boolean;
}

export interface SetResult {
  name: string;
  label: string;
  group?: string;
  windows: number;
  correctWindows: number;
  /** Vote of the set's windows, rest and unknown aside: what a session's predicted label would be. */
  predictedLabel?: string;
  repsExpected?: number;
  repsCounted: number;
}

export interface EvaluationResult extends ClassificationScores {
  model: string;
  candidates?: string[];
  /** The temporal smoothing the windows were scored with; absent when none. */
  smoothing?: SmoothingSettings;
  windows: number;
  sets: number;
  /** Sets left out because their label is not among the candidates. */
  skippedSets: number;
  /** Share of sets whose vote is their true label. */
  setAccuracy: number;
  reps: RepScores;
  perSet: SetResult[];
}

/** Window-level recognition and per-set rep counts; the truth is each set's label (folder name). */
export function evaluateSets(recognizer: Recognizer, allSets: readonly EvaluationSet[], options: EvaluateOptions = {}): EvaluationResult {
  const mask = recognizer.candidateMask(options.candidates);
  const sets = mask ? allSets.filter((s) => options.candidates!.includes(s.label)) : allSets;
  const extractor = recognizer.createExtractor();
  const features = new Float64Array(FEATURE_COUNT);
  const model = recognizer.model;
  const smoother = options.smoothing === false ? undefined : recognizer.createSmoother();
  const truth: string[] = [];
  const predicted: string[] = [];
  const perSet: SetResult[] = [];
  for (const set of sets) {
    const segments = resample(set.samples, { rateHz: model.rateHz, maxGapMs: model.maxGapMs });
    const labels: string[] = [];
    for (const segment of segments) {
      smoother?.reset();
      for (const w of segmentWindows(segment, recognizer.shape)) {
        labels.push(recognizer.classifyWindow(segment.columns, w.offset, extractor, features, mask, smoother).label);
      }
    }
    truth.push(...labels.map(() => set.label));
    predicted.push(...labels);
    perSet.push({
      name: set.name,
      label: set.label,
      group: set.group,
      windows: labels.length,
      correctWindows: labels.filter((l) => l === set.label).length,
      predictedLabel: voteLabel(labels, [REST_LABEL, UNKNOWN_LABEL]),
      repsExpected: set.reps,
      repsCounted: countRepsInSegments(segments, { ...options.repOptions, rateHz: model.rateHz }).reps,
    });
  }
  const trueLabels = [...new Set(sets.map((s) => s.label))].sort();
  const order = [...trueLabels, ...recognizer.labels.filter((l) => !trueLabels.includes(l))];
  const scores = scoreClassification(truth, predicted, order);
  return {
    model: recognizer.version,
    ...(options.candidates && options.candidates.length > 0 ? { candidates: [...options.candidates] } : {}),
    ...(smoother?.enabled && model.smoothing ? { smoothing: { ...model.smoothing } } : {}),
    ...scores,
    windows: truth.length,
    sets: sets.length,
    skippedSets: allSets.length - sets.length,
    setAccuracy: perSet.length > 0 ? perSet.filter((s) => s.predictedLabel === s.label).length / perSet.length : 0,
    reps: scoreReps(perSet.map((s) => ({ expected: s.repsExpected, counted: s.repsCounted }))),
    perSet,
  };
}

/** Evaluates on recordings laid out like shared/data/barbell-imu (folder = label, reps in the file name). */
export async function evaluateDataset(dir: string, recognizer: Recognizer, options: EvaluateOptions = {}): Promise<EvaluationResult> {
  const recordings = await loadRecordings(dir);
  return evaluateSets(
    recognizer,
    recordings.map((r) => ({ name: r.file, label: r.label, group: r.lifter, reps: r.reps, samples: r.samples })),
    options,
  );
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Human-readable report: headline numbers, per-class table, confusion matrix, rep errors. */
export function formatEvaluation(result: EvaluationResult): string {
  const lines: string[] = [];
  lines.push(`model ${result.model}${result.candidates ? ` (candidates: ${result.candidates.join(', ')})` : ''}`);
  const smoothing = result.smoothing;
  lines.push(smoothing ? `windows smoothed as live: ${smoothing.method}, time constant ${smoothing.timeConstantS} s` : 'windows scored one by one (no smoothing)');
  const skipped = result.skippedSets > 0 ? ` (${result.skippedSets} sets of other exercises left out)` : '';
  lines.push(`windows ${result.windows}, sets ${result.sets}${skipped}`);
  lines.push(`accuracy ${pct(result.accuracy)}   macro-F1 ${result.macroF1.toFixed(3)}   set vote accuracy ${pct(result.setAccuracy)}`);
  lines.push(`reps: MAE ${result.reps.mae.toFixed(2)}, within 1 rep ${pct(result.reps.within1)} of ${result.reps.sets} sets`);
  lines.push('');
  const labels = result.confusion.labels;
  const width = Math.max(10, ...labels.map((l) => l.length)) + 2;
  lines.push(`${'class'.padEnd(width)}${'precision'.padStart(10)}${'recall'.padStart(10)}${'F1'.padStart(8)}${'windows'.padStart(9)}`);
  for (const l of labels) {
    const s = result.perClass[l];
    if (s.support === 0 && s.precision === 0 && s.recall === 0) continue;
    lines.push(`${l.padEnd(width)}${s.precision.toFixed(3).padStart(10)}${s.recall.toFixed(3).padStart(10)}${s.f1.toFixed(3).padStart(8)}${String(s.support).padStart(9)}`);
  }
  lines.push('');
  lines.push('confusion (rows = true, columns = predicted)');
  const colWidth = Math.max(6, ...labels.map((l) => Math.min(l.length, 10))) + 1;
  lines.push(`${''.padEnd(width)}${labels.map((l) => l.slice(0, colWidth - 1).padStart(colWidth)).join('')}`);
  result.confusion.matrix.forEach((row, i) => {
    if (row.every((v) => v === 0)) return;
    lines.push(`${labels[i].padEnd(width)}${row.map((v) => String(v).padStart(colWidth)).join('')}`);
  });
  const misses = result.perSet.filter((s) => s.repsExpected !== undefined && Math.abs(s.repsCounted - s.repsExpected) > 1);
  if (misses.length > 0) {
    lines.push('');
    lines.push('sets counted off by more than one rep');
    for (const s of misses) lines.push(`  ${s.name}: ${s.repsCounted} counted, ${s.repsExpected} done`);
  }
  return `${lines.join('\n')}\n`;
}
