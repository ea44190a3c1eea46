import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../daemon/config.js';
import { AUTH, startTestHub, type TestHub } from '../helpers/hub.js';

const ALLOWED = 'https://app.example.com';

const preflight = (t: TestHub, origin: string) => t.hub.app.inject({
  method: 'OPTIONS',
  url: '/api/v1/sessions',
  headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
});
const corsHeaders = (headers: Record<string, unknown>) => Object.keys(headers).filter((name) => name.startsWith('access-control-'));

test('a configured origin gets CORS headers on the preflight and the real request; any other origin none', async () => {
  const t = await startTestHub({ http: { host: '127.0.0.1', port: 0, corsOrigins: [ALLOWED, 'http://192.168.1.20:3000'] } });
  try {
    const allowed = await preflight(t, ALLOWED);
    assert.equal(allowed.statusCode, 204, 'answered before the auth hook: a browser sends no token on a preflight');
    assert.equal(allowed.headers['access-control-allow-origin'], ALLOWED);
    assert.match(String(allowed.headers['access-control-allow-methods']), /PATCH/);
    assert.match(String(allowed.headers['access-control-allow-headers']), /authorization/);
    assert.equal(allowed.headers['access-control-max-age'], '600');

    const real = await t.hub.app.inject({ url: '/api/v1/info', headers: { ...AUTH, origin: ALLOWED } });
    assert.equal(real.statusCode, 200);
    assert.equal(real.headers['access-control-allow-origin'], ALLOWED);
    assert.match(String(real.headers['access-control-expose-headers']), /retry-after/);
    assert.match(String(real.headers.vary), /origin/i, 'caches keep answers for different origins apart');
    const refused = await t.hub.app.inject({ url: '/api/v1/info', headers: { origin: ALLOWED } });
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.headers['access-control-allow-origin'], ALLOWED, 'the app can read why it was refused');

    // Exact comparison: no prefix, suffix, case or scheme games.
    for (const origin of ['https://evil.example.com', 'https://app.example.com.evil.com', 'http://app.example.com', 'https://APP.example.com', 'null']) {
      const other = await preflight(t, origin);
      assert.equal(other.statusCode, 401, `${origin}: the preflight falls through to the auth hook`);
      assert.deepEqual(corsHeaders(other.headers), [], origin);
      const otherReal = await t.hub.app.inject({ url: '/api/v1/info', headers: { ...AUTH, origin } });
      assert.equal(otherReal.statusCode, 200, 'the request itself is served (a non-browser client may send any Origin)');
      assert.deepEqual(corsHeaders(otherReal.headers), [], origin);
    }
    assert.equal((await preflight(t, 'http://192.168.1.20:3000')).headers['access-control-allow-origin'], 'http://192.168.1.20:3000');
  } finally {
    await t.close();
  }
});

test('by default there are no CORS headers at all', async () => {
  const t = await startTestHub();
  try {
    const answer = await preflight(t, ALLOWED);
    assert.equal(answer.statusCode, 401);
    assert.deepEqual(corsHeaders(answer.headers), []);
    const real = await t.hub.app.inject({ url: '/api/v1/info', headers: { ...AUTH, origin: ALLOWED } });
    assert.equal(real.statusCode, 200);
    assert.deepEqual(corsHeaders(real.headers), []);
  } finally {
    await t.close();
  }
});

test('http.corsOrigins: GYMHUB_HTTP_CORS_ORIGINS (comma-separated) overrides the file; a malformed origin is a config error', () => {
  const load = (env: Record<string, string>, file: unknown = {}) => loadConfig({ env, readFile: () => JSON.stringify(file), path: '/x.json' });
  assert.deepEqual(load({}).http.corsOrigins, []);
  assert.deepEqual(load({}, { http: { corsOrigins: [ALLOWED] } }).http.corsOrigins, [ALLOWED]);
  assert.deepEqual(load({ GYMHUB_HTTP_CORS_ORIGINS: ` ${ALLOWED}, http://10.0.0.5:8081 ` }).http.corsOrigins, [ALLOWED, 'http://10.0.0.5:8081']);
  assert.deepEqual(load({ GYMHUB_HTTP_CORS_ORIGINS: '' }, { http: { corsOrigins: [ALLOWED] } }).http.corsOrigins, [], 'an empty variable switches CORS off');
  for (const bad of ['*', 'https://app.example.com/', 'app.example.com', 'https://app.example.com/path']) {
    assert.throws(() => load({ GYMHUB_HTTP_CORS_ORIGINS: bad }), /http\.corsOrigins/, bad);
  }
});
