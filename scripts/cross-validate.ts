/**
 * Script: `node --import tsx scripts/cross-validate.ts [--data DIR] [--compare]` prints the
 * leave-one-lifter-out results table (markdown) for the bundled model's recipe. --compare adds the same
 * recipe with the sensor-frame (orientation-dependent) features, and the held-out choice of rep settings.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BUNDLED_TRAIN_OPTIONS } from '../models/bundled-options.js';
import {
  crossValidate,
  crossValidateBySetNumber,
  crossValidateRepSettings,
  formatCrossValidation,
  formatRecallPerLifter,
  formatWindowsPerLifter,
  mergedScores,
} from '../models/cross-validation.js';
import { defaultDataDir } from '../models/data-dir.js';
import { loadRecordings } from '../models/dataset.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { data: { type: 'string' }, compare: { type: 'boolean', default: false } },
});
const started = performance.now();
const dir = values.data ? resolve(values.data) : await defaultDataDir(process.env);
const recordings = await loadRecordings(dir);
const result = crossValidate(recordings, { train: BUNDLED_TRAIN_OPTIONS });
process.stdout.write(formatCrossValidation(result, 'Leave-one-lifter-out, bundled recipe (orientation-invariant features)'));
process.stdout.write('\nTest windows per lifter and exercise:\n\n');
process.stdout.write(formatWindowsPerLifter(result));
process.stdout.write('\nRecall per held-out lifter and exercise:\n\n');
process.stdout.write(formatRecallPerLifter(result));
const merged = mergedScores(result.confusion, { rdl: 'dead' });
const mergedFolds = result.folds.map((f) => ({ lifter: f.lifter, ...mergedScores(f.confusion, { rdl: 'dead' }) }));
const withoutRdl = mergedScores(
  { labels: result.confusion.labels, matrix: result.confusion.matrix.map((row, i) => (result.confusion.labels[i] === 'rdl' ? row.map(() => 0) : row)) },
  {},
);
process.stdout.write('\n### The same predictions, scored with dead and rdl as one class (deadlift family)\n\n');
process.stdout.write(`pooled accuracy ${merged.accuracy.toFixed(3)}, macro-F1 over 5 classes ${merged.macroF1.toFixed(3)}; per lifter macro-F1: `);
process.stdout.write(`${mergedFolds.map((f) => `${f.lifter} ${f.macroF1.toFixed(3)}`).join(', ')}\n`);
process.stdout.write(`\nWithout the rdl sets (5 exercises, rdl still a possible answer): pooled macro-F1 ${withoutRdl.macroF1.toFixed(3)}\n`);
if (values.compare) {
  process.stdout.write('\n### Lifter known: every lifter\'s set N held out, trained on all other sets\n\n| held-out set | windows | accuracy | macro-F1 |\n|---|---:|---:|---:|\n');
  for (const r of crossValidateBySetNumber(recordings, BUNDLED_TRAIN_OPTIONS)) {
    process.stdout.write(`| set${r.set} | ${r.windows} | ${r.accuracy.toFixed(3)} | ${r.macroF1.toFixed(3)} |\n`);
  }
  const withSensor = crossValidate(recordings, { train: { ...BUNDLED_TRAIN_OPTIONS, featurePool: 'all' } });
  process.stdout.write('\n');
  process.stdout.write(formatCrossValidation(withSensor, 'Same recipe plus sensor-frame features (orientation-dependent)'));
  process.stdout.write('\n### Rep settings chosen on the other lifters only\n\n| test lifter | prominence | minDistance | within 1 | MAE |\n|---|---:|---:|---:|---:|\n');
  for (const r of crossValidateRepSettings(recordings)) {
    process.stdout.write(`| ${r.lifter} | ${r.chosen.prominence} | ${r.chosen.minDistance} | ${r.within1.toFixed(3)} | ${r.mae.toFixed(2)} |\n`);
  }
}
process.stdout.write(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
