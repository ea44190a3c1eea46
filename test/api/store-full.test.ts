import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCompactBatch } from '../../drivers/codec/encode.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { AUTH, startTestHub } from '../helpers/hub.js';

const MIB = 1024 * 1024;

test('a full store refuses ingestion visibly (507, /health degraded) and takes the same batch again once space returns', async (t) => {
  const clock = new FakeClock(Date.now());
  const hub = await startTestHub({ storage: { maxBytes: MIB, hardMaxBytes: MIB } }, clock);
  t.after(() => hub.close());
  const call = (method: 'POST' | 'DELETE', url: string, payload?: unknown) => hub.hub.app.inject({ method, url, headers: AUTH, ...(payload !== undefined && { payload: payload as object }) });
  // A labelled, unsynced session protects its readings from retention: they fill the store.
  const session = (await call('POST', '/api/v1/sessions', { deviceId: 'full-dev', label: 'squat' })).json();
  const batch = (k: number) => encodeCompactBatch({
    deviceId: 'full-dev', t0: clock.now(), dtMs: 1, seq: k * 500,
    samples: Array.from({ length: 500 }, (_, i) => [i / 100, k / 100, 9.8, 0.01, 0.02, i / 1000]),
  });
  const post = (body: string) => hub.hub.app.inject({ method: 'POST', url: '/api/v1/readings', headers: { ...AUTH, 'content-type': 'application/json' }, payload: body });

  let refused: { k: number; body: string } | undefined;
  for (let k = 0; k < 400 && !refused; k++) {
    clock.advance(600);
    const body = batch(k);
    const answer = await post(body);
    if (answer.statusCode === 507) {
      assert.equal(answer.json().error, 'store_full');
      refused = { k, body };
    } else {
      assert.equal(answer.statusCode, 202, answer.body);
    }
  }
  assert.ok(refused, 'the store filled up');
  const health = (await hub.hub.app.inject('/health')).json();
  assert.equal(health.status, 'degraded');
  assert.equal(health.components.store.state, 'full');

  // Space returns: the session goes, retention may delete its readings.
  assert.equal((await call('DELETE', `/api/v1/sessions/${session.id}`)).statusCode, 204);
  let again: Awaited<ReturnType<typeof post>> | undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    clock.advance(61_000);
    await new Promise((resolve) => setImmediate(resolve));
    again = await post(refused.body);
    if (again.statusCode === 202) break;
  }
  assert.equal(again?.statusCode, 202, again?.body ?? "no answer");
  assert.equal(again?.json().accepted, 500, 'the refused batch is stored now, not dropped as duplicates');
  assert.equal((await hub.hub.app.inject('/health')).json().components.store.state, 'ok');
});
