/**
 * Script: `node --import tsx scripts/cross-validate.ts [--data DIR] [--compare]` prints the
 * leave-one-lifter-out results (markdown) for the bundled model's recipe: windows scored as the hub reports
 * them (with the model's temporal smoothing) and, from the same models, every window on its own. --compare
 * adds what bounds the result (lifter known, whole-set averages), the previous recipe (22 features per
 * split), the sensor-frame features, and the held-out choice of rep settings.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BUNDLED_TRAIN_OPTIONS } from '../models/bundled-options.js';
import {
  crossValidate,
  crossValidateBySetNumber,
  crossValidateRepSettings,
  mergedScores,
  setMeanBound,
  trainFolds,
  type CrossValidationResult,
} from '../models/cross-validation.js';
import { formatCrossValidation, formatRecallPerLifter, formatWindowsPerLifter } from '../models/cross-validation-format.js';
import { defaultDataDir } from '../models/data-dir.js';
import { loadRecordings, type Recording } from '../models/dataset.js';
import type { TrainOptions } from '../models/train.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { data: { type: 'string' }, compare: { type: 'boolean', default: false } },
});
const out = (text: string) => process.stdout.write(text);
const f3 = (x: number) => x.toFixed(3);
const started = performance.now();
const dir = values.data ? resolve(values.data) : await defaultDataDir(process.env);
const recordings = await loadRecordings(dir);
const folds = trainFolds(recordings, BUNDLED_TRAIN_OPTIONS);
const smoothed = crossValidate(recordings, { folds });
const single = crossValidate(recordings, { folds, smoothing: false });
const { timeConstantS } = BUNDLED_TRAIN_OPTIONS.smoothing === 'none' || !BUNDLED_TRAIN_OPTIONS.smoothing ? { timeConstantS: 0 } : BUNDLED_TRAIN_OPTIONS.smoothing;

out(formatCrossValidation(smoothed, `Leave-one-lifter-out, bundled recipe, windows as the hub reports them (causal smoothing, time constant ${timeConstantS} s)`));
out('\n');
out(formatCrossValidation(single, 'The same models, every window on its own (no smoothing)'));
out('\nTest windows per lifter and exercise:\n\n');
out(formatWindowsPerLifter(smoothed));
out('\nRecall per held-out lifter and exercise (smoothed):\n\n');
out(formatRecallPerLifter(smoothed));
out('\n### The same predictions, scored with dead and rdl as one class (deadlift family)\n\n');
for (const [name, result] of [['smoothed', smoothed], ['single windows', single]] as const) {
  const merged = mergedScores(result.confusion, { rdl: 'dead' });
  const perLifter = result.folds.map((f) => `${f.lifter} ${f3(mergedScores(f.confusion, { rdl: 'dead' }).macroF1)}`).join(', ');
  out(`- ${name}: pooled accuracy ${f3(merged.accuracy)}, macro-F1 over 5 classes ${f3(merged.macroF1)}; per lifter: ${perLifter}\n`);
}
out(`\nWithout the rdl sets (5 exercises, rdl still a possible answer): pooled macro-F1 ${f3(withoutRdl(smoothed))} smoothed, ${f3(withoutRdl(single))} single windows\n`);

if (values.compare) {
  out("\n### Lifter known: every lifter's set N held out, trained on all other sets\n\n");
  out('| held-out set | windows | accuracy, single windows | macro-F1, single windows | accuracy, smoothed | macro-F1, smoothed |\n|---|---:|---:|---:|---:|---:|\n');
  for (const r of crossValidateBySetNumber(recordings, BUNDLED_TRAIN_OPTIONS)) {
    out(`| set${r.set} | ${r.windows} | ${f3(r.single.accuracy)} | ${f3(r.single.macroF1)} | ${f3(r.smoothed.accuracy)} | ${f3(r.smoothed.macroF1)} |\n`);
  }
  const bound = setMeanBound(recordings, folds);
  out('\n### Ceiling of averaging: every window takes its whole set\'s mean probability (not causal)\n\n');
  out(`LOLO, bundled recipe: sets right ${bound.setsRight}/${bound.sets}; pooled accuracy ${f3(bound.accuracy)}, macro-F1 ${f3(bound.macroF1)}; `);
  out(`per lifter ${Object.entries(bound.perLifter).map(([l, v]) => `${l} ${f3(v)}`).join(', ')}\n`);
  out(`per class F1 ${Object.entries(bound.perClass).filter(([, s]) => s.support > 0).map(([c, s]) => `${c} ${s.f1.toFixed(2)}`).join(', ')}\n`);
  for (const seed of [1, 2]) {
    variant(`Bundled recipe, forest seed ${seed} instead of ${BUNDLED_TRAIN_OPTIONS.forest.seed} (how much is luck)`, {
      ...BUNDLED_TRAIN_OPTIONS,
      forest: { ...BUNDLED_TRAIN_OPTIONS.forest, seed },
    });
  }
  variant('Previous recipe: 22 features tried per split (sqrt), otherwise the same', {
    ...BUNDLED_TRAIN_OPTIONS,
    forest: { ...BUNDLED_TRAIN_OPTIONS.forest, maxFeatures: 'sqrt' },
  });
  variant('Bundled recipe plus sensor-frame features (orientation-dependent)', { ...BUNDLED_TRAIN_OPTIONS, featurePool: 'all' });
  out('\n### Rep settings chosen on the other lifters only\n\n| test lifter | prominence | minDistance | within 1 | MAE |\n|---|---:|---:|---:|---:|\n');
  for (const r of crossValidateRepSettings(recordings)) {
    out(`| ${r.lifter} | ${r.chosen.prominence} | ${r.chosen.minDistance} | ${f3(r.within1)} | ${r.mae.toFixed(2)} |\n`);
  }
}
out(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)\n`);

function withoutRdl(result: CrossValidationResult): number {
  const { labels, matrix } = result.confusion;
  return mergedScores({ labels, matrix: matrix.map((row, i) => (labels[i] === 'rdl' ? row.map(() => 0) : row)) }, {}).macroF1;
}

function variant(title: string, train: TrainOptions, data: readonly Recording[] = recordings): void {
  const models = trainFolds(data, train);
  for (const smoothing of [true, false]) {
    const r = crossValidate(data, { folds: models, smoothing });
    const mean = r.folds.reduce((a, f) => a + f.macroF1, 0) / r.folds.length;
    const worst = r.folds.reduce((a, f) => (f.macroF1 < a.macroF1 ? f : a));
    if (smoothing) out(`\n### ${title}\n\n| windows | accuracy | macro-F1 pooled | mean of lifters | worst lifter | squat vs curl |\n|---|---:|---:|---:|---:|---:|\n`);
    out(`| ${smoothing ? 'smoothed' : 'single'} | ${f3(r.pooled.accuracy)} | ${f3(r.pooled.macroF1)} | ${f3(mean)} | ${f3(worst.macroF1)} (${worst.lifter}) | ${f3(r.pooled.candidateAccuracy)} |\n`);
  }
}
