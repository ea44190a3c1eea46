import type { Recording } from './dataset.js';
import { evaluateSets, type EvaluationSet } from './evaluate.js';
import { scoreClassification, scoreReps, type ClassificationScores } from './metrics.js';
import { FEATURE_COUNT } from './features/feature-list.js';
import { Recognizer, REST_LABEL } from './recognizer.js';
import { countReps, type RepCountOptions } from './reps.js';
import { resample } from './resample.js';
import { segmentWindows } from './windowing.js';
import { buildTrainingSet, subsetTrainingSet, trainModelFromSet, type TrainOptions } from './train.js';

/**
 * Leave-one-lifter-out cross-validation: for each lifter, train on the others and test on that lifter
 * only. Nothing of the test lifter is seen in training (features are per window, with no statistics
 * shared across windows, so computing them once for all lifters leaks nothing).
 */
export interface FoldResult {
  lifter: string;
  windows: number;
  accuracy: number;
  macroF1: number;
  /** Squat vs bicep_curl with the candidate restriction; undefined when the lifter has neither. */
  candidateAccuracy?: number;
  candidateWindows: number;
  repMae: number;
  repWithin1: number;
  sets: number;
  classesTested: string[];
  confusion: { labels: string[]; matrix: number[][] };
}

export interface CrossValidationResult {
  folds: FoldResult[];
  pooled: { accuracy: number; macroF1: number; candidateAccuracy: number; repMae: number; repWithin1: number; perClassF1: Record<string, number> };
  confusion: { labels: string[]; matrix: number[][] };
  /** Test windows per lifter and exercise (what each fold is scored on). */
  windowsPerLifter: Record<string, Record<string, number>>;
  candidates: string[];
}

export interface CrossValidateOptions {
  train?: TrainOptions;
  candidates?: readonly string[];
  repOptions?: RepCountOptions;
  /** Score windows with the model's temporal smoothing, as the hub reports them (default true). */
  smoothing?: boolean;
  /** Models already trained by trainFolds (to score the same models several ways); trained here otherwise. */
  folds?: ReadonlyMap<string, Recognizer>;
}

/** One model per lifter, trained on all the other lifters' recordings. */
export function trainFolds(recordings: readonly Recording[], train?: TrainOptions): Map<string, Recognizer> {
  const set = buildTrainingSet(
    recordings.map((r) => ({ label: r.label, samples: r.samples, group: r.lifter })),
    train,
  );
  const lifters = [...new Set(recordings.map((r) => r.lifter))].sort();
  return new Map(lifters.map((lifter) => [lifter, new Recognizer(trainModelFromSet(subsetTrainingSet(set, (g) => g !== lifter), train))]));
}

function testSetsOf(recordings: readonly Recording[], lifter: string): EvaluationSet[] {
  return recordings
    .filter((r) => r.lifter === lifter)
    .map((r) => ({ name: r.file, label: r.label, group: r.lifter, reps: r.reps, samples: r.samples }));
}

export function crossValidate(recordings: readonly Recording[], options: CrossValidateOptions = {}): CrossValidationResult {
  const candidates = [...(options.candidates ?? ['squat', 'bicep_curl'])];
  const models = options.folds ?? trainFolds(recordings, options.train);
  const lifters = [...models.keys()].sort();
  const folds: FoldResult[] = [];
  const truth: string[] = [];
  const predicted: string[] = [];
  let candidateCorrect = 0;
  let candidateTotal = 0;
  const repPairs: { expected?: number; counted: number }[] = [];
  let labelsOrder: string[] = [];
  const windowsPerLifter: Record<string, Record<string, number>> = {};
  const evaluateOptions = { repOptions: options.repOptions, smoothing: options.smoothing };
  for (const lifter of lifters) {
    const recognizer = models.get(lifter)!;
    labelsOrder = [...recognizer.labels];
    const testSets = testSetsOf(recordings, lifter);
    const all = evaluateSets(recognizer, testSets, evaluateOptions);
    const restricted = evaluateSets(recognizer, testSets, { ...evaluateOptions, candidates });
    all.confusion.matrix.forEach((row, i) =>
      row.forEach((count, j) => {
        for (let k = 0; k < count; k++) {
          truth.push(all.confusion.labels[i]);
          predicted.push(all.confusion.labels[j]);
        }
      }),
    );
    candidateCorrect += Math.round(restricted.accuracy * restricted.windows);
    candidateTotal += restricted.windows;
    repPairs.push(...all.perSet.map((s) => ({ expected: s.repsExpected, counted: s.repsCounted })));
    windowsPerLifter[lifter] = {};
    for (const s of all.perSet) windowsPerLifter[lifter][s.label] = (windowsPerLifter[lifter][s.label] ?? 0) + s.windows;
    folds.push({
      lifter,
      windows: all.windows,
      accuracy: all.accuracy,
      macroF1: all.macroF1,
      candidateAccuracy: restricted.windows > 0 ? restricted.accuracy : undefined,
      candidateWindows: restricted.windows,
      repMae: all.reps.mae,
      repWithin1: all.reps.within1,
      sets: all.sets,
      confusion: all.confusion,
      classesTested: [...new Set(testSets.map((s) => s.label))].sort(),
    });
  }
  const exercises = [...new Set(recordings.map((r) => r.label))].sort();
  const pooledScores = scoreClassification(truth, predicted, [...exercises, ...labelsOrder.filter((l) => !exercises.includes(l))]);
  const reps = scoreReps(repPairs);
  return {
    folds,
    pooled: {
      accuracy: pooledScores.accuracy,
      macroF1: pooledScores.macroF1,
      candidateAccuracy: candidateTotal > 0 ? candidateCorrect / candidateTotal : 0,
      repMae: reps.mae,
      repWithin1: reps.within1,
      perClassF1: Object.fromEntries(exercises.map((c) => [c, pooledScores.perClass[c].f1])),
    },
    confusion: pooledScores.confusion,
    windowsPerLifter,
    candidates,
  };
}

/**
 * Rep counting needs no training, but its few constants could still be tuned to the lifters they are
 * tested on. This picks them per fold from a small grid on the other lifters only and reports the held-out
 * result, to show how much the fixed defaults owe to having seen every lifter.
 */
export function crossValidateRepSettings(recordings: readonly Recording[]): { lifter: string; chosen: RepCountOptions; within1: number; mae: number }[] {
  const grid: RepCountOptions[] = [];
  for (const prominence of [0.2, 0.25, 0.3, 0.4, 0.5]) for (const minDistance of [0.4, 0.5, 0.6]) grid.push({ prominence, minDistance });
  const counts = grid.map((g) => recordings.map((r) => countReps(r.samples, g).reps));
  const lifters = [...new Set(recordings.map((r) => r.lifter))].sort();
  return lifters.map((lifter) => {
    const score = (gi: number, keep: (l: string) => boolean) =>
      scoreReps(recordings.flatMap((r, ri) => (keep(r.lifter) ? [{ expected: r.reps, counted: counts[gi][ri] }] : [])));
    let best = 0;
    grid.forEach((_, gi) => {
      const s = score(gi, (l) => l !== lifter);
      const b = score(best, (l) => l !== lifter);
      if (s.within1 > b.within1 || (s.within1 === b.within1 && s.mae < b.mae)) best = gi;
    });
    const held = score(best, (l) => l === lifter);
    return { lifter, chosen: { ...grid[best] }, within1: held.within1, mae: held.mae };
  });
}

/**
 * Scores a confusion matrix again with some labels merged (e.g. rdl into dead): how much of the error is
 * between exercises the data cannot tell apart.
 */
export function mergedScores(confusion: { labels: string[]; matrix: number[][] }, merge: Record<string, string>): ClassificationScores {
  const truth: string[] = [];
  const predicted: string[] = [];
  const name = (l: string) => merge[l] ?? l;
  confusion.matrix.forEach((row, i) =>
    row.forEach((count, j) => {
      for (let k = 0; k < count; k++) {
        truth.push(name(confusion.labels[i]));
        predicted.push(name(confusion.labels[j]));
      }
    }),
  );
  return scoreClassification(truth, predicted, [...new Set(confusion.labels.map(name))]);
}

/**
 * The same recipe when the test lifter IS known to the model: hold out every lifter's set N (set1, set2,
 * set3) at once and train on all other sets, lifters included. Not an estimate for new lifters; it shows
 * what the features can separate once a lifter's style has been seen.
 */
export function crossValidateBySetNumber(
  recordings: readonly Recording[],
  train?: TrainOptions,
): { set: number; windows: number; single: ClassificationScores; smoothed: ClassificationScores }[] {
  const trainingSet = buildTrainingSet(
    recordings.map((r) => ({ label: r.label, samples: r.samples, group: `${r.lifter}#${r.set}` })),
    train,
  );
  const setNumbers = [...new Set(recordings.map((r) => r.set))].sort((a, b) => a - b);
  return setNumbers.map((n) => {
    const model = trainModelFromSet(subsetTrainingSet(trainingSet, (g) => !g.endsWith(`#${n}`)), train);
    const recognizer = new Recognizer(model);
    const sets = recordings.filter((r) => r.set === n).map((r) => ({ name: r.file, label: r.label, samples: r.samples }));
    const single = evaluateSets(recognizer, sets, { smoothing: false });
    return { set: n, windows: single.windows, single, smoothed: evaluateSets(recognizer, sets) };
  });
}

/**
 * A ceiling for any averaging of a set's windows: every window of a set labelled with the argmax of the mean
 * forest probabilities over the whole set (still windows stay rest). It knows the future and where sets
 * begin and end, which live recognition does not; what a set's windows cannot agree on even so, no causal
 * smoothing can recover.
 */
export function setMeanBound(recordings: readonly Recording[], folds: ReadonlyMap<string, Recognizer>): ClassificationScores & { perLifter: Record<string, number>; setsRight: number; sets: number } {
  const truth: string[] = [];
  const predicted: string[] = [];
  const perLifter: Record<string, number> = {};
  let setsRight = 0;
  let sets = 0;
  let labels: readonly string[] = [];
  for (const [lifter, recognizer] of folds) {
    labels = recognizer.labels;
    const lifterTruth: string[] = [];
    const lifterPredicted: string[] = [];
    const extractor = recognizer.createExtractor();
    const features = new Float64Array(FEATURE_COUNT);
    for (const set of testSetsOf(recordings, lifter)) {
      const sum = new Float64Array(recognizer.classes.length);
      const rest: boolean[] = [];
      for (const segment of resample(set.samples, { rateHz: recognizer.model.rateHz, maxGapMs: recognizer.model.maxGapMs })) {
        for (const w of segmentWindows(segment, recognizer.shape)) {
          const p = recognizer.classifyWindow(segment.columns, w.offset, extractor, features);
          rest.push(p.label === REST_LABEL);
          recognizer.classes.forEach((c, k) => (sum[k] += p.probabilities[c]));
        }
      }
      let best = 0;
      for (let k = 1; k < sum.length; k++) if (sum[k] > sum[best]) best = k;
      const label = recognizer.classes[best];
      sets++;
      if (label === set.label) setsRight++;
      for (const isRest of rest) {
        lifterTruth.push(set.label);
        lifterPredicted.push(isRest ? REST_LABEL : label);
      }
    }
    perLifter[lifter] = scoreClassification(lifterTruth, lifterPredicted, recognizer.labels).macroF1;
    truth.push(...lifterTruth);
    predicted.push(...lifterPredicted);
  }
  const exercises = [...new Set(truth)].sort();
  return { ...scoreClassification(truth, predicted, [...exercises, ...labels.filter((l) => !exercises.includes(l))]), perLifter, setsRight, sets };
}
