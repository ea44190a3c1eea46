import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ModelError } from '../../models/errors.js';
import type { ModelFile } from '../../models/model-file.js';
import { ModelRegistry } from '../../models/registry.js';
import { trainModel } from '../../models/train.js';
import { loadShared } from './helpers.js';

describe('model registry', () => {
  let dataDir: string;
  let bundled: ModelFile;
  let v1: ModelFile;
  let v2: ModelFile;
  let clock = 1_700_000_000_000;
  const registry = () => new ModelRegistry({ dataDir, loadBundled: async () => bundled, now: () => clock++ });

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gymhub-registry-'));
    const recordings = (await loadShared(['squat_adam_set1_reps10_1.csv', 'bicep_adam_set1_reps10_1.csv'])).map((r) => ({
      label: r.label,
      samples: r.samples,
    }));
    bundled = trainModel(recordings, { forest: { nEstimators: 3, seed: 1 } });
    v1 = trainModel(recordings, { forest: { nEstimators: 3, seed: 2 } });
    v2 = trainModel(recordings, { forest: { nEstimators: 3, seed: 3 } });
  });

  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts with the bundled model active', async () => {
    const r = registry();
    assert.equal(await r.activeVersion(), bundled.version);
    const list = await r.list();
    assert.equal(list.length, 1);
    assert.equal(list[0].source, 'bundled');
    assert.equal(list[0].active, true);
    assert.equal((await r.active()).model.version, bundled.version);
  });

  it('adds versions with their metrics under <dataDir>/models/<version>/, activates and rolls back', async () => {
    const r = registry();
    await r.add(v1, { accuracy: 0.8 });
    await r.add(v2, { accuracy: 0.9 }, { source: 'cloud', activate: true });
    const stored = JSON.parse(await readFile(join(dataDir, 'models', v2.version, 'model.json'), 'utf8'));
    assert.deepEqual(stored.metrics, { accuracy: 0.9 });
    assert.equal(stored.featureVersion, v2.featureVersion);
    assert.equal(await r.activeVersion(), v2.version);
    const list = await r.list();
    assert.deepEqual(
      list.map((e) => [e.version, e.source, e.active]),
      [
        [bundled.version, 'bundled', false],
        [v1.version, 'trained', false],
        [v2.version, 'cloud', true],
      ],
    );
    await r.activate(v1.version);
    assert.equal((await r.active()).model.version, v1.version);
    // a fresh registry on the same directory sees the same state
    assert.equal(await registry().activeVersion(), v1.version);
    assert.equal(await r.rollback(), v2.version);
    assert.equal(await r.rollback(), bundled.version);
    await assert.rejects(r.rollback(), (e: unknown) => e instanceof ModelError && e.code === 'model_not_found');
  });

  it('refuses unknown versions and models of another feature version', async () => {
    const r = registry();
    await assert.rejects(r.activate('fv1-000000000000'), (e: unknown) => e instanceof ModelError && e.code === 'model_not_found');
    await assert.rejects(r.activate('../escape'), (e: unknown) => e instanceof ModelError && e.code === 'invalid_model');
    await assert.rejects(r.add({ ...v1, featureVersion: 999 }), (e: unknown) => e instanceof ModelError && e.code === 'feature_version_mismatch');
  });

  it('falls back to the bundled model when the active file is unusable', async () => {
    const r = registry();
    await r.activate(v1.version);
    await writeFile(join(dataDir, 'models', v1.version, 'model.json'), '{"broken":');
    const { model, fallback } = await r.active();
    assert.equal(model.version, bundled.version);
    assert.match(fallback ?? '', /unusable/);
  });
});
