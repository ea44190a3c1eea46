import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { App } from '../../daemon/api/app.js';
import { mlRoutes } from '../../daemon/api/routes-ml.js';
import { apiErrorHandler } from '../../daemon/api/error-handler.js';
import { recordingReadings, silent, startRig, type Rig } from './helpers.js';

/** The ML routes alone, with the API's own error handler. */
async function buildMlApp(rig: Rig, predictBodyLimitBytes?: number): Promise<App> {
  const app = Fastify({ loggerInstance: silent, bodyLimit: 1024 * 1024 }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  app.setErrorHandler(apiErrorHandler);
  await app.register(mlRoutes, { prefix: '/api/v1', recognition: rig.service, predictBodyLimitBytes });
  return app;
}

describe('ML routes', () => {
  let rig: Rig;
  let app: App;
  let squatBody: { readings: object[] };
  before(async () => {
    rig = await startRig();
    app = await buildMlApp(rig, 2 * 1024 * 1024);
    const squat = await recordingReadings('squat_adam_set1_reps10_1.csv', 'rack-1', Date.UTC(2026, 0, 1));
    squatBody = { readings: squat };
  });
  after(async () => {
    await app.close();
    await rig.close();
  });

  const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });
  const postRaw = (url: string, payload: string) => app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });

  it('POST /predict: a set of readings in, windows, their vote and reps out', async () => {
    const response = await post('/api/v1/predict', squatBody);
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.label, 'squat');
    assert.equal(body.modelVersion, rig.service.status().version);
    assert.ok(Math.abs(body.reps - 10) <= 1, `reps ${body.reps}`);
    assert.ok(body.predictions.length > 10);
    assert.equal(body.predictions[0].deviceId, 'rack-1');
    assert.equal(typeof body.predictions[0].probabilities.squat, 'number');
    const restricted = (await post('/api/v1/predict', { ...squatBody, candidates: ['bicep_curl', 'row'] })).json();
    assert.ok(restricted.predictions.every((p: { label: string }) => ['bicep_curl', 'row', 'rest', 'unknown'].includes(p.label)));
  });

  it('POST /predict: every bad input is a 400 with the reason, never a 500', async () => {
    const good = squatBody.readings as { ts: number; accel: number[]; gyro: number[] }[];
    const withReading = (i: number, patch: object) => ({ readings: good.map((r, k) => (k === i ? { ...r, ...patch } : r)) });
    const cases: { name: string; send: () => ReturnType<typeof post>; error: string; message: RegExp }[] = [
      { name: 'too few samples', send: () => post('/api/v1/predict', { readings: good.slice(0, 40) }), error: 'too_few_samples', message: /at least 2\.56 s/ },
      { name: 'no readings', send: () => post('/api/v1/predict', { readings: [] }), error: 'too_few_samples', message: /no readings/ },
      { name: '"NaN" in accel', send: () => post('/api/v1/predict', withReading(3, { accel: [1, 'NaN', 9.8] })), error: 'invalid_sample', message: /reading 3: accel\.1 must be number/ },
      { name: 'null in gyro', send: () => post('/api/v1/predict', withReading(0, { gyro: [null, 0, 0] })), error: 'invalid_sample', message: /reading 0: gyro\.0/ },
      { name: 'string ts', send: () => post('/api/v1/predict', withReading(5, { ts: 'yesterday' })), error: 'invalid_sample', message: /reading 5: ts must be number/ },
      { name: 'accel of two values', send: () => post('/api/v1/predict', withReading(1, { accel: [1, 2] })), error: 'invalid_sample', message: /reading 1: accel/ },
      { name: 'gyro missing', send: () => post('/api/v1/predict', { readings: [{ ts: 1, accel: [0, 0, 9.8] }] }), error: 'invalid_sample', message: /reading 0 must have required properties gyro/ },
      { name: 'a reading that is a number', send: () => post('/api/v1/predict', { readings: [42] }), error: 'invalid_sample', message: /reading 0 must be object/ },
      { name: 'readings not an array', send: () => post('/api/v1/predict', { readings: 'lots' }), error: 'invalid_sample', message: /readings must be array/ },
      { name: 'no readings field', send: () => post('/api/v1/predict', { samples: [] }), error: 'bad_request', message: /body/ },
      { name: 'unknown candidate', send: () => post('/api/v1/predict', { ...squatBody, candidates: ['zumba'] }), error: 'unknown_class', message: /does not know zumba/ },
      { name: 'literal NaN (not JSON)', send: () => postRaw('/api/v1/predict', '{"readings":[{"ts":1,"accel":[NaN,0,0],"gyro":[0,0,0]}]}'), error: 'fst_err_ctp_invalid_json_body', message: /JSON/ },
      { name: 'not JSON at all', send: () => postRaw('/api/v1/predict', 'readings please'), error: 'fst_err_ctp_invalid_json_body', message: /JSON/ },
    ];
    for (const c of cases) {
      const response = await c.send();
      assert.equal(response.statusCode, 400, `${c.name}: ${response.body}`);
      const body = response.json();
      assert.equal(body.error, c.error, `${c.name}: ${response.body}`);
      assert.match(body.message, c.message, c.name);
    }
    const huge = { readings: Array.from({ length: 30_000 }, (_, i) => ({ ts: i * 20, accel: [0.123456, 0.123456, 9.81], gyro: [0.01, 0.02, 0.03] })) };
    const tooBig = await post('/api/v1/predict', huge);
    assert.equal(tooBig.statusCode, 413, tooBig.body);
  });

  it('GET /predictions pages by cursor and refuses bad ranges and cursors', async () => {
    const session = rig.sessions.start('rack-2');
    const squat = await recordingReadings('squat_adam_set2_reps10_1.csv', 'rack-2', rig.clock.now() + 100);
    await rig.stream(squat.slice(0, 2000));
    const all = (await app.inject(`/api/v1/predictions?sessionId=${session.id}&limit=10000`)).json();
    assert.ok(all.items.length > 10);
    const seen: number[] = [];
    let url = `/api/v1/predictions?deviceId=rack-2&limit=4`;
    for (;;) {
      const page = (await app.inject(url)).json();
      seen.push(...page.items.map((p: { windowStart: number }) => p.windowStart));
      if (!page.nextCursor) break;
      url = `/api/v1/predictions?deviceId=rack-2&limit=4&cursor=${page.nextCursor}`;
    }
    assert.deepEqual(seen, all.items.map((p: { windowStart: number }) => p.windowStart));
    const mid = all.items[3].windowStart;
    const ranged = (await app.inject(`/api/v1/predictions?deviceId=rack-2&from=${mid}&to=${all.items[6].windowStart}`)).json();
    assert.deepEqual(ranged.items.map((p: { windowStart: number }) => p.windowStart), seen.slice(3, 6));
    assert.equal((await app.inject('/api/v1/predictions?cursor=garbage')).json().error, 'bad_cursor');
    assert.equal((await app.inject('/api/v1/predictions?from=10&to=5')).statusCode, 400);
    assert.equal((await app.inject('/api/v1/predictions?limit=0')).statusCode, 400);
    assert.equal((await app.inject('/api/v1/predictions?deviceId=bad!id')).statusCode, 400);
    assert.deepEqual((await app.inject('/api/v1/predictions?sessionId=nope')).json(), { items: [], nextCursor: null });
    rig.sessions.end(session.id);
    await rig.service.idle();
  });

  it('GET /models, activate and rollback answer with the registry, 404 and 409 for what cannot be done', async () => {
    const models = (await app.inject('/api/v1/models')).json();
    assert.equal(models.nextCursor, null);
    assert.equal(models.items.length, 1);
    assert.equal(models.items[0].source, 'bundled');
    assert.equal(models.items[0].active, true);
    assert.deepEqual(models.items[0].classes, ['bicep_curl', 'dead', 'rdl', 'row', 'shoulder_press', 'squat']);
    const missing = await post('/api/v1/models/no-such-model/activate', {});
    assert.equal(missing.statusCode, 404, missing.body);
    assert.equal((await post('/api/v1/models/bad!version/activate', {})).statusCode, 400);
    const again = await post(`/api/v1/models/${models.items[0].version}/activate`, {});
    assert.equal(again.statusCode, 200, again.body);
    const rollback = await post('/api/v1/models/rollback', {});
    assert.equal(rollback.statusCode, 409, rollback.body);
    assert.equal((await app.inject('/api/v1/models?cursor=zzz')).statusCode, 400);
  });

  it('POST /models/train without enough labelled sessions is a 409 that says why; bad bodies are 400', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/v1/models/train' });
    assert.equal(response.statusCode, 409, response.body);
    assert.equal(response.json().error, 'not_enough_data');
    assert.match(response.json().message, /at least two exercises/);
    assert.equal((await post('/api/v1/models/train', { force: 'yes' })).statusCode, 400);
    assert.equal((await post('/api/v1/models/train', { bogus: 1 })).statusCode, 400);
  });
});
