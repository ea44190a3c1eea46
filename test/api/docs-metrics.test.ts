import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCompactBatch } from '../../drivers/codec/encode.js';
import { AUTH, startTestHub, type TestHub } from '../helpers/hub.js';

let t: TestHub;
before(async () => {
  // Every route is tried without a token: more failures than the default limit allows from one address.
  t = await startTestHub({ http: { host: '127.0.0.1', port: 0, failedAuthPerMinute: 1000 } });
});
after(() => t.close());

test('/docs/json is an OpenAPI 3 document listing every route; each /api/v1 route in it answers 401 without the token', async () => {
  const response = await t.hub.app.inject('/docs/json');
  assert.equal(response.statusCode, 200);
  const doc = response.json();
  assert.match(doc.openapi, /^3\./);
  assert.ok(doc.info.title && doc.info.version);
  assert.equal(doc.components.securitySchemes.bearer.scheme, 'bearer');
  const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })));
  for (const expected of ['GET /health', 'GET /metrics', 'POST /api/v1/readings', 'GET /api/v1/readings', 'GET /api/v1/readings/latest', 'GET /api/v1/devices', 'GET /api/v1/devices/{id}']) {
    assert.ok(routes.some((r) => `${r.method} ${r.path}` === expected), `${expected} is documented`);
  }
  const apiRoutes = routes.filter((r) => r.path.startsWith('/api/v1'));
  for (const route of apiRoutes) {
    const url = route.path.replace(/\{[^}]+\}/g, 'x');
    const answer = await t.hub.app.inject({ method: route.method as 'GET', url, payload: route.method === 'GET' || route.method === 'DELETE' ? undefined : {} });
    assert.equal(answer.statusCode, 401, `${route.method} ${route.path} without a token`);
    assert.equal(answer.json().error, 'unauthorized');
  }
  assert.equal((await t.hub.app.inject('/docs')).statusCode, 200, 'the UI is served');
});

test('/metrics speaks Prometheus text with the figures of SPEC section 8', async () => {
  const batch = encodeCompactBatch({ deviceId: 'metrics-dev', t0: Date.now() - 100, dtMs: 10, seq: 0, samples: [[0, 0, 9.8, 0, 0, 0], [0, 0, 9.8, 0, 0, 0.1]] });
  assert.equal((await t.hub.app.inject({ method: 'POST', url: '/api/v1/readings', headers: { ...AUTH, 'content-type': 'application/json' }, payload: batch })).statusCode, 202);
  const bad = JSON.stringify({ d: 'metrics-dev', t0: Date.now(), dt: 10, s: [[0, 0, 999, 0, 0, 0], [0, 0, 9.8, 0, 0, 0.2]] });
  await t.hub.app.inject({ method: 'POST', url: '/api/v1/readings', headers: { ...AUTH, 'content-type': 'application/json' }, payload: bad });
  const response = await t.hub.app.inject('/metrics');
  assert.equal(response.statusCode, 200);
  assert.match(response.headers['content-type'] as string, /^text\/plain/);
  const text = response.body;
  const value = (line: string) => Number(text.split('\n').find((l) => l.startsWith(line))?.split(' ').at(-1));
  assert.equal(value('gymhub_readings_stored_total{transport="http"}'), 3);
  assert.equal(value('gymhub_readings_rejected_total{transport="http"}'), 1);
  assert.ok(value('gymhub_store_bytes') > 0);
  assert.equal(value('gymhub_store_backlog_readings'), 0);
  assert.ok(value('gymhub_event_loop_lag_p99_seconds') >= 0);
  for (const line of text.trim().split('\n')) assert.match(line, /^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? [-\d.e+NaN]+)$/, line);
});
