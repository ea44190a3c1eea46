import type { Recording } from './dataset.js';
import { evaluateSets, type EvaluationSet } from './evaluate.js';
import { scoreClassification, scoreReps, type ClassificationScores } from './metrics.js';
import { Recognizer } from './recognizer.js';
import { countReps, type RepCountOptions } from './reps.js';
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
}

export function crossValidate(recordings: readonly Recording[], options: CrossValidateOptions = {}): CrossValidationResult {
  const candidates = [...(options.candidates ?? ['squat', 'bicep_curl'])];
  const set = buildTrainingSet(
    recordings.map((r) => ({ label: r.label, samples: r.samples, group: r.lifter })),
    options.train,
  );
  const lifters = [...new Set(recordings.map((r) => r.lifter))].sort();
  const folds: FoldResult[] = [];
  const truth: string[] = [];
  const predicted: string[] = [];
  let candidateCorrect = 0;
  let candidateTotal = 0;
  const repPairs: { expected?: number; counted: number }[] = [];
  let labelsOrder: string[] = [];
  const windowsPerLifter: Record<string, Record<string, number>> = {};
  for (const lifter of lifters) {
    const model = trainModelFromSet(subsetTrainingSet(set, (g) => g !== lifter), options.train);
    const recognizer = new Recognizer(model);
    labelsOrder = [...recognizer.labels];
    const testSets: EvaluationSet[] = recordings
      .filter((r) => r.lifter === lifter)
      .map((r) => ({ name: r.file, label: r.label, group: r.lifter, reps: r.reps, samples: r.samples }));
    const all = evaluateSets(recognizer, testSets, { repOptions: options.repOptions });
    const restricted = evaluateSets(recognizer, testSets, { candidates, repOptions: options.repOptions });
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
export function crossValidateBySetNumber(recordings: readonly Recording[], train?: TrainOptions): { set: number; accuracy: number; macroF1: number; windows: number }[] {
  const trainingSet = buildTrainingSet(
    recordings.map((r) => ({ label: r.label, samples: r.samples, group: `${r.lifter}#${r.set}` })),
    train,
  );
  const setNumbers = [...new Set(recordings.map((r) => r.set))].sort((a, b) => a - b);
  return setNumbers.map((n) => {
    const model = trainModelFromSet(subsetTrainingSet(trainingSet, (g) => !g.endsWith(`#${n}`)), train);
    const result = evaluateSets(
      new Recognizer(model),
      recordings.filter((r) => r.set === n).map((r) => ({ name: r.file, label: r.label, samples: r.samples })),
    );
    return { set: n, accuracy: result.accuracy, macroF1: result.macroF1, windows: result.windows };
  });
}

const f3 = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(3));

/** The results table (markdown) of ml-results.md. */
export function formatCrossValidation(result: CrossValidationResult, title = 'Leave-one-lifter-out'): string {
  const rows = result.folds;
  const mean = (pick: (f: FoldResult) => number | undefined) => {
    const v = rows.map(pick).filter((x): x is number => x !== undefined);
    return v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  };
  const worst = (pick: (f: FoldResult) => number | undefined, lowIsBad = true) => {
    const v = rows.map((f) => ({ f, x: pick(f) })).filter((e): e is { f: FoldResult; x: number } => e.x !== undefined);
    const w = v.reduce((a, b) => ((lowIsBad ? b.x < a.x : b.x > a.x) ? b : a));
    return `${w.x.toFixed(3)} (${w.f.lifter})`;
  };
  const lines = [
    `### ${title}`,
    '',
    `| test lifter | windows | accuracy (all classes) | macro-F1 (all classes) | ${result.candidates.join(' vs ')} accuracy (candidates) | rep MAE | reps within 1 | sets |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (f) =>
        `| ${f.lifter} | ${f.windows} | ${f3(f.accuracy)} | ${f3(f.macroF1)} | ${f3(f.candidateAccuracy)} | ${f.repMae.toFixed(2)} | ${f3(f.repWithin1)} | ${f.sets} |`,
    ),
    `| **mean of lifters** | | ${f3(mean((f) => f.accuracy))} | ${f3(mean((f) => f.macroF1))} | ${f3(mean((f) => f.candidateAccuracy))} | ${mean((f) => f.repMae).toFixed(2)} | ${f3(mean((f) => f.repWithin1))} | |`,
    `| **worst lifter** | | ${worst((f) => f.accuracy)} | ${worst((f) => f.macroF1)} | ${worst((f) => f.candidateAccuracy)} | ${worst((f) => f.repMae, false)} | ${worst((f) => f.repWithin1)} | |`,
    `| **pooled (all test windows / sets)** | ${rows.reduce((a, f) => a + f.windows, 0)} | ${f3(result.pooled.accuracy)} | ${f3(result.pooled.macroF1)} | ${f3(result.pooled.candidateAccuracy)} | ${result.pooled.repMae.toFixed(2)} | ${f3(result.pooled.repWithin1)} | ${rows.reduce((a, f) => a + f.sets, 0)} |`,
    '',
    `Pooled per-class F1: ${Object.entries(result.pooled.perClassF1)
      .map(([c, f]) => `${c} ${f.toFixed(2)}`)
      .join(', ')}`,
    '',
    'Pooled confusion (rows = true, columns = predicted):',
    '',
    `| true \\ predicted | ${result.confusion.labels.join(' | ')} |`,
    `|---|${result.confusion.labels.map(() => '---:').join('|')}|`,
    ...result.confusion.matrix
      .map((row, i) => ({ row, label: result.confusion.labels[i] }))
      .filter(({ row }) => row.some((v) => v > 0))
      .map(({ row, label }) => `| ${label} | ${row.join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}

/** Recall of each exercise for each held-out lifter: which lifter's which exercise does not carry over. */
export function formatRecallPerLifter(result: CrossValidationResult): string {
  const classes = [...new Set(result.folds.flatMap((f) => f.classesTested))].sort();
  return [
    `| test lifter | ${classes.join(' | ')} |`,
    `|---|${classes.map(() => '---:').join('|')}|`,
    ...result.folds.map((f) => {
      const cells = classes.map((c) => {
        const i = f.confusion.labels.indexOf(c);
        const row = i >= 0 ? f.confusion.matrix[i] : [];
        const total = row.reduce((a, b) => a + b, 0);
        return total > 0 ? (row[i] / total).toFixed(2) : '-';
      });
      return `| ${f.lifter} | ${cells.join(' | ')} |`;
    }),
  ].join('\n') + '\n';
}

export function formatWindowsPerLifter(result: CrossValidationResult): string {
  const classes = [...new Set(Object.values(result.windowsPerLifter).flatMap((m) => Object.keys(m)))].sort();
  const lifters = Object.keys(result.windowsPerLifter).sort();
  return [
    `| lifter | ${classes.join(' | ')} |`,
    `|---|${classes.map(() => '---:').join('|')}|`,
    ...lifters.map((l) => `| ${l} | ${classes.map((c) => result.windowsPerLifter[l][c] ?? 0).join(' | ')} |`),
  ].join('\n') + '\n';
}

