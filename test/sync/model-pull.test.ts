import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadBundledModel, type ModelFile } from '../../models/index.js';
import { ModelPuller, type ModelPullDecision } from '../../sync/model-pull.js';
import { silent } from '../recognition/helpers.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { AUTH, startTestHub, type TestHub } from '../helpers/hub.js';
import { TEST_PG_PASSWORD } from '../helpers/postgres.js';
import { publishModel, seedHubSessions, setsOf, startCloudDb, variantOf, type CloudDb } from './retrain-helpers.js';

const POLL_S = 60;

interface ModelItem {
  version: string;
  source: string;
  active: boolean;
  metrics: Record<string, any> | null;
}

describe('the hub pulls published models', () => {
  let db: CloudDb;
  let bundled: ModelFile;
  let hub: TestHub;
  const clock = new FakeClock();
  let publishedAt = clock.now() - 60_000;

  const api = async (method: 'GET' | 'POST', url: string) => {
    const response = await hub.hub.app.inject({ method, url, headers: AUTH });
    return { status: response.statusCode, body: response.json() };
  };
  const models = async () => (await api('GET', '/api/v1/models')).body.items as ModelItem[];
  const puller = () => hub.hub.modelPull!;
  /** The next scheduled poll, as the hub's timer runs it. */
  const nextPoll = async (): Promise<ModelPullDecision | null> => {
    const before = puller().status().decisions.length;
    clock.advance(POLL_S * 1000);
    await puller().idle();
    const after = puller().status().decisions;
    return after.length > before ? after[after.length - 1] : null;
  };
  const publish = (model: ModelFile, override?: Parameters<typeof publishModel>[3]) => publishModel(db.client, model, (publishedAt += 1000), override);

  before(async () => {
    bundled = await loadBundledModel();
    db = await startCloudDb('pull');
    hub = await startTestHub({ sync: { postgresUrl: db.url, modelPollS: POLL_S } }, clock, async (dataDir) => {
      await seedHubSessions(dataDir, clock, [{ deviceId: 'rack-1', files: setsOf(['adam', 'suzan']) }]);
    });
  });
  after(async () => {
    await hub?.close();
    await db?.close();
  });

  it('polls 30 s after start, then on its interval; nothing published: nothing to do', async () => {
    assert.equal(puller().status().state, 'idle');
    assert.equal(puller().status().lastPollAt, null);
    assert.equal(puller().status().nextPollAt, clock.now() + 30_000);
    clock.advance(30_000);
    await puller().idle();
    const status = puller().status();
    assert.equal(status.lastPollAt, clock.now());
    assert.equal(status.lastError, null);
    assert.equal(status.lastSuccessAt, clock.now());
    assert.equal(status.seen, null);
    assert.deepEqual(status.decisions, []);
    assert.equal(status.nextPollAt, clock.now() + POLL_S * 1000);
  });

  it('refuses a model whose checksum does not match, once, and does not fetch it again', async () => {
    const model = variantOf(bundled, { unknownThreshold: 0.31 });
    await publish(model, { sha256: 'f'.repeat(64) });
    const decision = await nextPoll();
    assert.equal(decision?.action, 'refused');
    assert.equal(decision?.version, model.version);
    assert.match(decision!.reason, /checksum mismatch/);
    assert.ok(!(await models()).some((m) => m.version === model.version), 'not stored');
    assert.equal(await nextPoll(), null, 'not retried');
    assert.deepEqual(puller().status().seen, { version: model.version, publishedAt });
  });

  it('refuses a model of another feature version (in its row, or only in the model itself)', async () => {
    const other = variantOf(bundled, { unknownThreshold: 0.32, featureVersion: 999 });
    await publish(other, { featureVersion: '999' });
    const byRow = await nextPoll();
    assert.equal(byRow?.action, 'refused');
    assert.match(byRow!.reason, /feature version 999; this hub computes features v1/);

    const sneaky = variantOf(bundled, { unknownThreshold: 0.33, featureVersion: 999 });
    await publish(sneaky, { featureVersion: '1' });
    const byModel = await nextPoll();
    assert.equal(byModel?.action, 'refused');
    assert.match(byModel!.reason, /not a usable model: model uses features v999/);
    assert.equal((await models()).length, 1, 'only the bundled model');
  });

  it('keeps a model that is worse on its own labelled sessions stored but inactive', async () => {
    // every window falls under the unknown threshold: no exercise is ever recognised
    const hopeless = variantOf(bundled, { unknownThreshold: 1.01 });
    await publish(hopeless);
    const decision = await nextPoll();
    assert.equal(decision?.action, 'kept', String(decision?.reason));
    assert.equal(decision!.shadow!.sessions, 6);
    assert.ok(decision!.shadow!.windows > 50);
    assert.equal(decision!.shadow!.candidate.macroF1, 0);
    assert.ok(decision!.shadow!.active.macroF1 > 0.9, 'the bundled model knows these lifters');
    const listed = (await models()).find((m) => m.version === hopeless.version)!;
    assert.equal(listed.source, 'cloud');
    assert.equal(listed.active, false);
    assert.equal(listed.metrics?.shadow.candidate.macroF1, 0);
    assert.equal(hub.hub.health().components.model.version, bundled.version);
  });

  let pulled: ModelFile;
  it('activates a model that is not worse; GET /models shows it with its metrics; the decision is logged in status and on disk', async () => {
    // the same forest (same predictions), told apart by what it says of its training
    pulled = variantOf(bundled, { training: { ...bundled.training, data: 'cloud sessions' } });
    await publish(pulled, { metrics: { heldOut: { macroF1: 0.87, accuracy: 0.9 }, trainedIn: 'cloud' } });
    const decision = await nextPoll();
    assert.equal(decision?.action, 'activated', String(decision?.reason));
    assert.equal(decision!.shadow!.candidate.macroF1, decision!.shadow!.active.macroF1);
    const listed = (await models()).find((m) => m.version === pulled.version)!;
    assert.equal(listed.active, true);
    assert.equal(listed.source, 'cloud');
    assert.equal(listed.metrics?.heldOut.macroF1, 0.87);
    assert.equal(listed.metrics?.trainedIn, 'cloud');
    assert.equal(listed.metrics?.publishedAt, publishedAt);
    assert.equal(listed.metrics?.shadow.sessions, 6);
    assert.equal(hub.hub.health().components.model.version, pulled.version);
    assert.equal(hub.hub.health().components.model.source, 'cloud');

    const status = puller().status();
    assert.equal(status.lastDecision?.version, pulled.version);
    assert.deepEqual(status.decisions.map((d) => d.action), ['refused', 'refused', 'refused', 'kept', 'activated']);
    const onDisk = JSON.parse(await readFile(join(hub.dataDir, 'model-pull.json'), 'utf8'));
    assert.deepEqual(onDisk.seen, { version: pulled.version, publishedAt });
  });

  it('a restarted hub remembers what it has dealt with: the same model is not judged again', async () => {
    const unused = () => {
      throw new Error('not to be used: nothing new is published');
    };
    const restarted = new ModelPuller({
      postgresUrl: db.url,
      registry: { active: unused, add: unused } as never,
      activate: unused,
      sessions: { list: unused },
      readings: { iterate: unused },
      clock,
      log: silent,
      stateFile: join(hub.dataDir, 'model-pull.json'),
      pollIntervalMs: POLL_S * 1000,
    });
    assert.equal(await restarted.pollNow(), undefined);
    assert.equal(restarted.status().lastError, null);
    assert.deepEqual(restarted.status().seen, { version: pulled.version, publishedAt });
    assert.equal(restarted.status().lastDecision?.action, 'activated');
    await restarted.stop();
  });

  it('rollback goes back to the previous model, and the puller does not undo it', async () => {
    const back = await api('POST', '/api/v1/models/rollback');
    assert.equal(back.status, 200);
    assert.deepEqual(back.body, { version: bundled.version, previous: pulled.version });
    assert.equal(await nextPoll(), null);
    const listed = await models();
    assert.equal(listed.find((m) => m.active)?.version, bundled.version);
    assert.equal(listed.find((m) => m.version === pulled.version)?.active, false);
    const again = await api('POST', `/api/v1/models/${pulled.version}/activate`);
    assert.equal(again.status, 200);
    assert.equal(hub.hub.health().components.model.version, pulled.version);
  });

  it('a Postgres it cannot reach is an error in status, without the password, retried at the next poll', async () => {
    await db.pg.stop();
    try {
      assert.equal(await nextPoll(), null);
      const status = puller().status();
      assert.equal(status.state, 'error');
      assert.ok(status.lastError);
      assert.ok(!status.lastError!.includes(TEST_PG_PASSWORD));
    } finally {
      await db.pg.start();
    }
    assert.equal(await nextPoll(), null);
    assert.equal(puller().status().state, 'idle');
    assert.equal(puller().status().lastError, null);
  });
});
