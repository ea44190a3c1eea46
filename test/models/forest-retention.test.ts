import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FEATURE_COUNT } from '../../models/features/feature-list.js';
import { CompiledForest } from '../../models/forest.js';
import { loadBundledModel } from '../../models/load-model.js';
import { Recognizer } from '../../models/recognizer.js';
import { ModelRegistry } from '../../models/registry.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Whether an object is gone after a full collection (WeakRef targets live at least to the end of the current job). */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  await nextTurn();
  gc();
  return ref.deref() === undefined;
}

test('the hub keeps the bundled forest only compiled: neither the recognizer nor the registry holds its JSON trees', { timeout: 20_000 }, async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'gymhub-forest-retention-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  let reads = 0;
  const registry = new ModelRegistry({ dataDir, loadBundled: () => (reads++, loadBundledModel()) });
  // What RecognitionService.start does: the active model, a recognizer of it, the registry's list.
  let model: Awaited<ReturnType<ModelRegistry['active']>>['model'] | undefined = (await registry.active()).model;
  const trees = new WeakRef(model.forest);
  const recognizer = new Recognizer(model);
  const reference = CompiledForest.fromJson(model.forest, model.classes.length, FEATURE_COUNT);
  model = undefined;
  assert.equal((await registry.list())[0].version, recognizer.version);
  assert.equal(await registry.activeVersion(), recognizer.version);
  assert.equal(reads, 1, 'start-up reads the bundled model once');

  assert.ok(await collected(trees), 'the forest JSON of the model in use is still reachable');
  assert.equal('forest' in recognizer.model, false);

  // The recognizer predicts with its compiled copy as a forest compiled from the file does.
  const features = new Float64Array(FEATURE_COUNT);
  for (let i = 0; i < 50; i++) {
    for (let f = 0; f < FEATURE_COUNT; f++) features[f] = Math.sin(i * 7.3 + f * 0.61) * (1 + (f % 5));
    const expected = Array.from(reference.predictProba(features));
    const probabilities = recognizer.classifyFeatures(features).probabilities;
    assert.deepEqual(recognizer.classes.map((c) => probabilities[c]), expected, `window ${i}`);
  }
});
