import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { dashboardRoutes, DASHBOARD_UPLOT_PREFIX } from '../../daemon/api/routes-dashboard.js';
import { startTestHub } from '../helpers/hub.js';

test('the hub serves the page, its files and uPlot without a token, while the API still needs one', async (t) => {
  const hub = await startTestHub();
  t.after(() => hub.close());
  const get = (url: string) => hub.hub.app.inject({ method: 'GET', url });

  const page = await get('/');
  assert.equal(page.statusCode, 200);
  assert.match(String(page.headers['content-type']), /^text\/html/);
  assert.match(page.body, /<script src="\/app.js" type="module">/);
  assert.match(String(page.headers['content-security-policy']), /default-src 'self'/, 'only its own scripts may run where the token is kept');

  for (const [url, type] of [['/app.js', /javascript/], ['/stream.js', /javascript/], ['/dashboard.css', /text\/css/], ['/favicon.svg', /image\/svg/]] as const) {
    const answer = await get(url);
    assert.equal(answer.statusCode, 200, url);
    assert.match(String(answer.headers['content-type']), type, url);
  }
  const uplot = await get(`${DASHBOARD_UPLOT_PREFIX}uPlot.iife.min.js`);
  assert.equal(uplot.statusCode, 200);
  assert.match(uplot.body, /uPlot/);
  assert.equal((await get(`${DASHBOARD_UPLOT_PREFIX}uPlot.min.css`)).statusCode, 200);
  assert.equal((await get(`${DASHBOARD_UPLOT_PREFIX}uPlot.cjs.js`)).statusCode, 404, 'only the two files the page loads');
  assert.equal((await get(`${DASHBOARD_UPLOT_PREFIX}../package.json`)).statusCode, 404);
  assert.equal((await get('/../package.json')).statusCode, 404);

  const features = await get('/dashboard.json');
  assert.equal(features.statusCode, 200);
  assert.deepEqual(features.json(), { sync: hub.hub.app.hasRoute({ method: 'GET', url: '/api/v1/sync' }) });

  assert.equal((await get('/api/v1/devices')).statusCode, 401);
  assert.equal((await get('/api/v1/stream')).statusCode, 401);
});

test('/dashboard.json tells the page which optional API routes the hub has', async (t) => {
  for (const hasSync of [false, true]) {
    const app = Fastify();
    t.after(() => app.close());
    await app.register(dashboardRoutes, { hasRoute: (method, url) => method === 'GET' && url === '/api/v1/sync' && hasSync });
    assert.deepEqual((await app.inject({ method: 'GET', url: '/dashboard.json' })).json(), { sync: hasSync });
  }
});
