import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ConflictError } from '../../daemon/errors.js';
import { NotEnoughDataError } from '../../daemon/recognition/hub-training.js';
import { loadBundledModel, parseModel, type ModelFile } from '../../models/index.js';
import { modelSha256 } from '../../sync/model-checksum.js';
import { retrain, type RetrainResult } from '../../sync/retrain.js';
import { migrate } from '../../sync/migrations.js';
import { SMALL_RECIPE, STUMP_RECIPE, seedCloudSessions, setsOf, startCloudDb, type CloudDb } from './retrain-helpers.js';

/** hub-north ranks first by hash, so it is the held-out hub: the smaller one, two lifters. */
const TWO_HUBS = {
  'hub-north': [{ deviceId: 'rack-1', files: setsOf(['suzan', 'udai']) }],
  'hub-south': [
    { deviceId: 'rack-1', files: setsOf(['adam', 'anuj']) },
    { deviceId: 'rack-2', files: setsOf(['kamyar']) },
  ],
};

interface ModelRow {
  version: string;
  feature_version: string;
  classes: string[];
  metrics: RetrainResult['metrics'];
  trained_on: RetrainResult['trainedOn'];
  sha256: string;
  model: ModelFile;
  published: boolean;
  published_at: string | null;
}

async function rows(client: pg.ClientBase): Promise<ModelRow[]> {
  return (await client.query<ModelRow>('SELECT * FROM models ORDER BY created_at, version')).rows;
}

async function otherDatabase(db: CloudDb, name: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: await db.pg.createDatabase(name) });
  await client.connect();
  await migrate(client);
  return client;
}

describe('gymhub retrain (the job)', () => {
  let db: CloudDb;
  let bundled: ModelFile;
  const run = (client: pg.ClientBase, extra: Partial<Parameters<typeof retrain>[0]> = {}) =>
    retrain({ client, baseline: async () => bundled, trainOptions: SMALL_RECIPE, ...extra });

  before(async () => {
    bundled = await loadBundledModel();
    db = await startCloudDb('retrain');
    await seedCloudSessions(db.client, TWO_HUBS);
  });
  after(async () => db?.close());

  let first: RetrainResult;
  it('publishes the first model: held out by hub, metrics and trained_on in its row, sha256 of the canonical model', async () => {
    first = await run(db.client);
    assert.equal(first.published, true, first.reason);
    assert.equal(first.created, true);
    assert.match(first.reason, /no model is published yet/);
    assert.deepEqual(first.metrics.split, { by: 'hubs', heldOut: ['hub-north'], trained: ['hub-south'] });
    assert.deepEqual(first.trainedOn.hubs, ['hub-south']);
    assert.equal(first.trainedOn.sessions, 9);
    assert.deepEqual(first.trainedOn.labels, { bicep_curl: 3, shoulder_press: 3, squat: 3 });
    assert.equal(first.metrics.testSessions, 6);
    assert.ok(first.trainedOn.windows > 100, `windows ${first.trainedOn.windows}`);
    assert.ok(first.metrics.heldOut.windows > 50);
    assert.ok(first.metrics.heldOut.macroF1 > 0.5, `held-out macro-F1 ${first.metrics.heldOut.macroF1}: two lifters never trained on`);
    assert.equal(first.metrics.current.source, 'bundled');
    assert.equal(first.previous, null);

    const [row] = await rows(db.client);
    assert.equal(row.version, first.version);
    assert.equal(row.published, true);
    assert.equal(Number(row.published_at), first.publishedAt);
    assert.equal(row.feature_version, '1');
    assert.deepEqual(row.classes, ['bicep_curl', 'shoulder_press', 'squat']);
    assert.equal(row.sha256, first.sha256);
    assert.equal(modelSha256(row.model), row.sha256, 'the checksum survives the jsonb round trip');
    assert.equal(parseModel(row.model).version, first.version);
    assert.deepEqual(row.model.training.groups, ['hub-south'], 'the model names the hubs it learnt from');
    assert.deepEqual(row.metrics, JSON.parse(JSON.stringify(first.metrics)));
    assert.deepEqual(row.trained_on, JSON.parse(JSON.stringify(first.trainedOn)));
    assert.equal(row.metrics.heldOut.confusion.labels[0], 'bicep_curl');
  });

  it('a second run that is not better is stored but not published', async () => {
    const worse = await run(db.client, { trainOptions: STUMP_RECIPE });
    assert.equal(worse.published, false);
    assert.equal(worse.created, true);
    assert.equal(worse.publishedAt, null);
    assert.notEqual(worse.version, first.version);
    assert.deepEqual(worse.previous, { version: first.version, macroF1: first.metrics.heldOut.macroF1 }, 'compared with the published model on the same held-out hub');
    assert.equal(worse.metrics.current.source, 'published');
    assert.ok(worse.metrics.heldOut.macroF1 < first.metrics.heldOut.macroF1);
    assert.match(worse.reason, /does not beat the published/);
    const all = await rows(db.client);
    assert.deepEqual(all.map((r) => [r.version, r.published]), [[first.version, true], [worse.version, false]]);
  });

  it('the same data and seed give the same model: nothing added, nothing published', async () => {
    const again = await run(db.client);
    assert.equal(again.version, first.version);
    assert.equal(again.created, false);
    assert.equal(again.published, false);
    assert.match(again.reason, /identical to the published model/);
    assert.equal((await rows(db.client)).length, 2);
  });

  it('publishes a model that beats the published one; --min-improvement raises the bar', async () => {
    const client = await otherDatabase(db, 'retrain_better');
    try {
      await seedCloudSessions(client, TWO_HUBS);
      const stump = await run(client, { trainOptions: STUMP_RECIPE });
      assert.equal(stump.published, true, 'nothing was published: the first model is');
      const better = await run(client, { minImprovement: 0.001 });
      assert.equal(better.published, true, better.reason);
      assert.match(better.reason, /beats the published/);
      assert.equal(better.previous?.version, stump.version);
      assert.ok(better.publishedAt! > stump.publishedAt!);
      const newest = await client.query<{ version: string }>('SELECT version FROM models WHERE published ORDER BY published_at DESC LIMIT 1');
      assert.equal(newest.rows[0].version, better.version);

      const other = await run(client, { minImprovement: 1, trainOptions: { ...SMALL_RECIPE, forest: { ...SMALL_RECIPE.forest, seed: 7 } } });
      assert.equal(other.published, false);
      assert.match(other.reason, /by at least 1/);
    } finally {
      await client.end();
    }
  });

  it('one hub: held out by device; sessions still uploading are left out', async () => {
    const client = await otherDatabase(db, 'retrain_one_hub');
    try {
      await seedCloudSessions(client, { 'hub-south': TWO_HUBS['hub-south'] });
      await client.query(`UPDATE sessions SET reading_count = reading_count + 1 WHERE session_id = 'S0001'`);
      const result = await run(client);
      assert.equal(result.metrics.split.by, 'devices');
      assert.equal(result.metrics.split.heldOut.length, 1);
      assert.equal(result.metrics.split.trained.length, 1);
      assert.deepEqual(result.trainedOn.hubs, ['hub-south']);
      assert.equal(result.trainedOn.incompleteSessions, 1);
      assert.equal(result.metrics.trainSessions + result.metrics.testSessions, 8);
      assert.equal(result.published, true);
    } finally {
      await client.end();
    }
  });

  it('one job at a time: a second one on the same database is refused while the first runs', async () => {
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1)', [0x67796d72]);
      await assert.rejects(run(db.client), (err: unknown) => err instanceof ConflictError && /another retrain job is running/.test(err.message));
    } finally {
      await other.end();
    }
    assert.equal((await run(db.client)).version, first.version, 'free again once the other has ended');
  });

  it('without labelled data of two exercises it fails with not_enough_data and writes nothing', async () => {
    const client = await otherDatabase(db, 'retrain_empty');
    try {
      await assert.rejects(run(client), (err: unknown) => err instanceof NotEnoughDataError);
      await seedCloudSessions(client, { 'hub-a': [{ deviceId: 'd', files: ['squat_adam_set1_reps10_1.csv'] }], 'hub-b': [{ deviceId: 'd', files: ['squat_anuj_set1_rep10_1.csv'] }] });
      await assert.rejects(run(client), (err: unknown) => err instanceof NotEnoughDataError);
      assert.equal((await client.query('SELECT 1 FROM models')).rowCount, 0);
    } finally {
      await client.end();
    }
  });
});
