import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultDataDir } from './data-dir.js';
import { loadRecordings } from './dataset.js';
import { isModelError } from './errors.js';
import { serializeModel } from './model-file.js';
import { buildTrainingSet, trainModelFromSet } from './train.js';
import { BUNDLED_TRAIN_OPTIONS } from './bundled-options.js';

export const TRAIN_USAGE = `Usage: gymhub train [--data DIR] [--out FILE] [--seed N] [--trees N] [--json]

Trains the exercise model on recordings laid out like shared/data/barbell-imu (one folder per exercise,
one CSV per set) and writes the model file (default: the bundled model, models/bundled/model.json).
Deterministic: the same data and seed give the same file.
`;

export interface CliContext {
  env?: Record<string, string | undefined>;
  /** Where errors go; `out` when omitted. */
  err?: NodeJS.WritableStream;
}

export function bundledModelTarget(): string {
  return fileURLToPath(new URL('./bundled/model.json', import.meta.url));
}

/** `gymhub train`; resolves to the exit code (0 ok, 1 failed, 2 usage). */
export async function runTrain(argv: string[], out: NodeJS.WritableStream, context: CliContext = {}): Promise<number> {
  const err = context.err ?? out;
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        data: { type: 'string' },
        out: { type: 'string' },
        seed: { type: 'string' },
        trees: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    err.write(`gymhub train: ${(e as Error).message}\n${TRAIN_USAGE}`);
    return 2;
  }
  if (values.help) {
    out.write(TRAIN_USAGE);
    return 0;
  }
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  const trees = values.trees === undefined ? undefined : Number(values.trees);
  if ((seed !== undefined && !Number.isInteger(seed)) || (trees !== undefined && !(Number.isInteger(trees) && trees > 0))) {
    err.write(`gymhub train: --seed and --trees take integers\n${TRAIN_USAGE}`);
    return 2;
  }
  try {
    const started = performance.now();
    const dataDir = values.data ? resolve(values.data) : await defaultDataDir(context.env);
    const target = values.out ? resolve(values.out) : bundledModelTarget();
    const recordings = await loadRecordings(dataDir);
    const options = {
      ...BUNDLED_TRAIN_OPTIONS,
      forest: { ...BUNDLED_TRAIN_OPTIONS.forest, ...(seed !== undefined ? { seed } : {}), ...(trees ? { nEstimators: trees } : {}) },
    };
    const set = buildTrainingSet(
      recordings.map((r) => ({ label: r.label, samples: r.samples, group: r.lifter })),
      options,
    );
    const model = trainModelFromSet(set, options);
    const text = serializeModel(model);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, text);
    const seconds = (performance.now() - started) / 1000;
    const summary = {
      model: target,
      version: model.version,
      classes: model.classes,
      recordings: recordings.length,
      windows: set.rows.length,
      bytes: Buffer.byteLength(text),
      seconds: Math.round(seconds * 100) / 100,
    };
    out.write(values.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
    return 0;
  } catch (e) {
    err.write(`gymhub train: ${isModelError(e) ? e.message : (e as Error).stack}\n`);
    return 1;
  }
}

function formatSummary(s: { model: string; version: string; classes: string[]; recordings: number; windows: number; bytes: number; seconds: number }): string {
  return (
    `trained ${s.version} on ${s.recordings} recordings (${s.windows} windows) in ${s.seconds.toFixed(1)} s\n` +
    `classes: ${s.classes.join(', ')}\n` +
    `wrote ${s.model} (${(s.bytes / 1024).toFixed(0)} KiB)\n`
  );
}
