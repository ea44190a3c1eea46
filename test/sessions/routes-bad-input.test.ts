import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Session } from '../../daemon/sessions/types.js';
import { openApi, type ApiFixture } from './api-fixture.js';

let f: ApiFixture;
before(async () => {
  f = await openApi();
});
after(() => f.close());

const UNKNOWN_ID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
const BAD_IDS = ['nope', '01ARZ3NDEKTSV4RRFFQ69G5FA', '01ARZ3NDEKTSV4RRFFQ69G5FAVX', '81ARZ3NDEKTSV4RRFFQ69G5FAV', '01ARZ3NDEKTSV4RRFFQ69G5FAU', '%00'];

interface Case {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  /** A string is sent as it is, as JSON unless `contentType` says otherwise; anything else as JSON. */
  body?: unknown;
  contentType?: string;
  status: number;
}

async function expectClientError(c: Case): Promise<void> {
  const headers: Record<string, string> = {};
  if (c.body !== undefined) headers['content-type'] = c.contentType ?? 'application/json';
  const payload = c.body === undefined ? undefined : typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
  const response = await f.app.inject({ method: c.method, url: `/api/v1${c.url}`, headers, payload });
  const what = `${c.method} ${c.url} ${String(payload).slice(0, 80)}`;
  assert.equal(response.statusCode, c.status, `${what}: ${response.body.slice(0, 300)}`);
  const body = response.json();
  assert.equal(typeof body.error, 'string', what);
  assert.equal(typeof body.message, 'string', what);
  assert.ok(body.message.length > 0, what);
}

describe('bad input to the session routes', () => {
  it('POST /sessions: every malformed body is a 4xx with {error, message}, and nothing is stored', async () => {
    const cases: Case[] = [
      { method: 'POST', url: '/sessions', status: 400 },
      { method: 'POST', url: '/sessions', body: '', status: 400 },
      { method: 'POST', url: '/sessions', body: '{"deviceId":', status: 400 },
      { method: 'POST', url: '/sessions', body: '{"__proto__":{"x":1},"deviceId":"d1"}', status: 400 },
      { method: 'POST', url: '/sessions', body: [], status: 400 },
      { method: 'POST', url: '/sessions', body: 'null', status: 400 },
      { method: 'POST', url: '/sessions', body: {}, status: 400 },
      { method: 'POST', url: '/sessions', body: { deviceId: 5 }, status: 400 },
      { method: 'POST', url: '/sessions', body: { deviceId: 'bad id!' }, status: 400 },
      { method: 'POST', url: '/sessions', body: { deviceId: 'x'.repeat(65) }, status: 400 },
      { method: 'POST', url: '/sessions', body: { deviceId: 'd1', label: 5 }, status: 400 },
      { method: 'POST', url: '/sessions', body: { deviceId: 'd1', label: '' }, status: 400 },
      { method: 'POST', url: '/sessions', body: { deviceId: 'd1', label: 'l'.repeat(65) }, status: 400 },
      { method: 'POST', url: '/sessions', body: { deviceId: 'd1', label: 'bench press' }, status: 400 },
      { method: 'POST', url: '/sessions', body: { deviceId: 'd1', notes: 'n'.repeat(2001) }, status: 400 },
      { method: 'POST', url: '/sessions', body: { deviceId: 'd1', notes: ['a'] }, status: 400 },
      { method: 'POST', url: '/sessions', body: { deviceId: 'd1', athleteId: '' }, status: 400 },
      { method: 'POST', url: '/sessions', body: { deviceId: 'd1', athleteId: 'a\nb' }, status: 400 },
      { method: 'POST', url: '/sessions', body: { deviceId: 'd1', candidates: 'squat' }, status: 400 },
      { method: 'POST', url: '/sessions', body: { deviceId: 'd1', candidates: [1] }, status: 400 },
      { method: 'POST', url: '/sessions', body: { deviceId: 'd1', candidates: Array.from({ length: 33 }, (_, i) => `c${i}`) }, status: 400 },
      { method: 'POST', url: '/sessions', body: { deviceId: 'd1', candidates: ['squat', 'zumba'] }, status: 400 },
      { method: 'POST', url: '/sessions', body: { deviceId: 'd1', lable: 'squat' }, status: 400 },
      { method: 'POST', url: '/sessions', body: { deviceId: 'd1', status: 'ended' }, status: 400 },
      { method: 'POST', url: '/sessions', body: { deviceId: 'd1', notes: 'n'.repeat(20_000) }, status: 413 },
      { method: 'POST', url: '/sessions', body: { deviceId: 'd1', notes: 'n'.repeat(2_000_000) }, status: 413 },
      { method: 'POST', url: '/sessions', body: 'deviceId=d1', contentType: 'text/plain', status: 400 },
      { method: 'POST', url: '/sessions', body: '<deviceId>d1</deviceId>', contentType: 'application/xml', status: 415 },
    ];
    for (const c of cases) await expectClientError(c);
    assert.deepEqual((await f.app.inject({ method: 'GET', url: '/api/v1/sessions' })).json(), { items: [], nextCursor: null });
    assert.equal(f.sessions.events.length, 0);
  });

  it('unknown candidates name the valid ones', async () => {
    const response = await f.app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { deviceId: 'd1', candidates: ['zumba'] } });
    assert.equal(response.statusCode, 400);
    const body = response.json();
    assert.equal(body.error, 'unknown_candidates');
    assert.deepEqual(body.details.unknown, ['zumba']);
    assert.ok(body.details.valid.includes('squat'));
    assert.match(body.message, /squat/);
  });

  it('GET /sessions: bad filters, limits and cursors are 400s', async () => {
    for (const query of ['status=open', 'limit=0', 'limit=abc', 'limit=1001', 'deviceId=bad%20id', 'label=a%20b', 'cursor=garbage', `cursor=${'x'.repeat(600)}`]) {
      await expectClientError({ method: 'GET', url: `/sessions?${query}`, status: 400 });
    }
    const a = (await f.app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { deviceId: 'cursor-a' } })).json() as Session;
    await f.app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { deviceId: 'cursor-b' } });
    const page = (await f.app.inject({ method: 'GET', url: '/api/v1/sessions?limit=1' })).json();
    assert.ok(page.nextCursor);
    await expectClientError({ method: 'GET', url: `/sessions?deviceId=cursor-a&cursor=${page.nextCursor}`, status: 400 });
    for (const s of [a, ...(await f.sessions.service.list()).items]) await f.sessions.service.delete(s.id).catch(() => undefined);
  });

  it('every route with an id: a bad ULID is a 400, an unknown one a 404', async () => {
    const routes: Array<[Case['method'], string, unknown?]> = [
      ['GET', ''],
      ['PATCH', '', { label: 'squat' }],
      ['DELETE', ''],
      ['GET', '/readings.csv'],
      ['GET', '/readings.json'],
    ];
    for (const [method, suffix, body] of routes) {
      for (const id of BAD_IDS) await expectClientError({ method, url: `/sessions/${id}${suffix}`, body, status: 400 });
      await expectClientError({ method, url: `/sessions/${UNKNOWN_ID}${suffix}`, body, status: 404 });
    }
  });

  it('PATCH /sessions/:id: malformed bodies are 4xx and leave the session as it was', async () => {
    const created = await f.app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { deviceId: 'patch-1', label: 'squat', candidates: ['squat'] } });
    const session = created.json() as Session;
    const url = `/sessions/${session.id}`;
    const cases: Case[] = [
      { method: 'PATCH', url, status: 400 },
      { method: 'PATCH', url, body: '{', status: 400 },
      { method: 'PATCH', url, body: {}, status: 400 },
      { method: 'PATCH', url, body: [], status: 400 },
      { method: 'PATCH', url, body: { end: false }, status: 400 },
      { method: 'PATCH', url, body: { end: 'yes' }, status: 400 },
      { method: 'PATCH', url, body: { label: null }, status: 400 },
      { method: 'PATCH', url, body: { label: 7 }, status: 400 },
      { method: 'PATCH', url, body: { label: 'x'.repeat(65) }, status: 400 },
      { method: 'PATCH', url, body: { notes: 'n'.repeat(2001) }, status: 400 },
      { method: 'PATCH', url, body: { athleteId: 5 }, status: 400 },
      { method: 'PATCH', url, body: { candidates: ['zumba'] }, status: 400 },
      { method: 'PATCH', url, body: { candidates: [null] }, status: 400 },
      { method: 'PATCH', url, body: { deviceId: 'other' }, status: 400 },
      { method: 'PATCH', url, body: { startedAt: 0 }, status: 400 },
      { method: 'PATCH', url, body: { synced: true }, status: 400 },
      { method: 'PATCH', url, body: { label: 'row', sneaky: 1 }, status: 400 },
      { method: 'PATCH', url, body: { notes: 'n'.repeat(40_000) }, status: 413 },
      { method: 'PATCH', url, body: 'label=row', contentType: 'text/plain', status: 400 },
    ];
    for (const c of cases) await expectClientError(c);
    const now = (await f.app.inject({ method: 'GET', url: `/api/v1${url}` })).json();
    assert.deepEqual(now, session, 'unchanged');
    assert.deepEqual(f.sessions.events.filter((e) => e.session.id === session.id).map((e) => e.type), ['started']);
  });
});
