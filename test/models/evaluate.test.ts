import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { runEvaluate } from '../../models/cli-evaluate.js';
import { runTrain } from '../../models/cli-train.js';
import { scoreClassification } from '../../models/metrics.js';
import { sharedDataDir } from './helpers.js';

const SUBSET: Record<string, string[]> = {
  squat: ['squat_adam_set1_reps10_1.csv', 'squat_kamyar_set1_reps10_1.csv'],
  bicep_curl: ['bicep_adam_set1_reps10_1.csv', 'bicep_kamyar_set1_reps10_1.csv'],
  row: ['row_kamyar_set1_reps10_1.csv'],
};

async function run(fn: (argv: string[], out: NodeJS.WritableStream) => Promise<number>, argv: string[]): Promise<{ code: number; text: string }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const code = await fn(argv, out);
  return { code, text: Buffer.concat(chunks).toString('utf8') };
}

describe('evaluate and train CLIs', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gymhub-eval-'));
    for (const [label, files] of Object.entries(SUBSET)) {
      await mkdir(join(dir, 'data', label), { recursive: true });
      for (const f of files) await copyFile(join(sharedDataDir(), label, f), join(dir, 'data', label, f));
    }
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('scores a confusion matrix with rows = true labels', () => {
    const s = scoreClassification(['a', 'a', 'b', 'b'], ['a', 'b', 'b', 'unknown'], ['a', 'b', 'unknown']);
    assert.deepEqual(s.confusion.matrix, [
      [1, 1, 0],
      [0, 1, 1],
      [0, 0, 0],
    ]);
    assert.equal(s.accuracy, 0.5);
    assert.equal(s.perClass.a.precision, 1);
    assert.equal(s.perClass.b.precision, 0.5);
    assert.equal(s.perClass.b.recall, 0.5);
    assert.ok(Math.abs(s.macroF1 - (2 / 3 + 0.5) / 2) < 1e-12);
  });

  it('evaluates the bundled model and prints one JSON object', async () => {
    const { code, text } = await run(runEvaluate, ['--data', join(dir, 'data'), '--json']);
    assert.equal(code, 0);
    const result = JSON.parse(text);
    for (const key of ['accuracy', 'macroF1', 'perClass', 'confusion', 'reps', 'windows', 'sets']) assert.ok(key in result, key);
    assert.equal(result.sets, 5);
    assert.ok(result.windows > 80);
    const { labels, matrix } = result.confusion;
    assert.deepEqual(labels.slice(0, 3), ['bicep_curl', 'row', 'squat']);
    assert.equal(matrix.length, labels.length);
    const rowSums = matrix.map((r: number[]) => r.reduce((a, b) => a + b, 0));
    assert.equal(rowSums.reduce((a: number, b: number) => a + b, 0), result.windows);
    assert.ok(rowSums[labels.indexOf('squat')] > 0 && rowSums[labels.indexOf('rest')] === 0, 'rows are the true labels');
    assert.ok(typeof result.reps.mae === 'number' && typeof result.reps.within1 === 'number');
    assert.equal(result.reps.sets, 5);
  });

  it('restricts to candidate classes with --classes, and prints a readable report', async () => {
    const { code, text } = await run(runEvaluate, ['--data', join(dir, 'data'), '--classes', 'squat,bicep_curl']);
    assert.equal(code, 0);
    assert.match(text, /accuracy/);
    assert.match(text, /confusion/);
    assert.match(text, /candidates: squat, bicep_curl/);
    const json = JSON.parse((await run(runEvaluate, ['--data', join(dir, 'data'), '--classes', 'squat,bicep_curl', '--json'])).text);
    assert.equal(json.sets, 4);
    assert.ok(json.accuracy >= 0.97, `squat vs curl accuracy ${json.accuracy}`);
  });

  it('answers bad arguments with exit code 2', async () => {
    assert.equal((await run(runEvaluate, ['--bogus'])).code, 2);
    assert.equal((await run(runEvaluate, ['--data', join(dir, 'data'), '--classes', 'yoga', '--json'])).code, 2);
    assert.equal((await run(runEvaluate, ['--data', join(dir, 'nowhere'), '--json'])).code, 1);
    assert.equal((await run(runTrain, ['--trees', 'many'])).code, 2);
    assert.match((await run(runEvaluate, ['--help'])).text, /Usage: gymhub evaluate/);
  });

  it('trains a model file deterministically and evaluates with it', async () => {
    const first = join(dir, 'a.json');
    const second = join(dir, 'b.json');
    const argv = (out: string) => ['--data', join(dir, 'data'), '--out', out, '--trees', '4', '--seed', '9', '--json'];
    const a = await run(runTrain, argv(first));
    assert.equal(a.code, 0, a.text);
    assert.equal((await run(runTrain, argv(second))).code, 0);
    assert.equal(await readFile(first, 'utf8'), await readFile(second, 'utf8'));
    assert.deepEqual(JSON.parse(a.text).classes, ['bicep_curl', 'row', 'squat']);
    const evaluated = JSON.parse((await run(runEvaluate, ['--data', join(dir, 'data'), '--model', first, '--json'])).text);
    assert.equal(evaluated.model, JSON.parse(a.text).version);
  });
});
