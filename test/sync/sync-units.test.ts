import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { Reading } from '../../drivers/reading.js';
import { CopyRows } from '../../sync/copy-rows.js';
import { pgTarget, redactPgMessage } from '../../sync/pg-redact.js';
import { SyncIntegrityError } from '../../sync/sync-errors.js';
import { SYNC_OFF, isUnreachable } from '../../sync/sync-service.js';
import { syncHealth } from '../../sync/sync-report.js';
import { AUTH, startTestHub } from '../helpers/hub.js';

const reading = (ts: number, seq: number | undefined, x = 0.5): Reading => ({ deviceId: 'd', ts, ...(seq !== undefined && { seq }), accel: [x, -1.25, 9.81], gyro: [0, 0.001, -3e-7] });

test('COPY rows: each (ts, seq) once, absent seq as -1, absent mag and temp as NULL, values in their shortest form', () => {
  const rows = new CopyRows('H\tD\tS\t');
  rows.add([reading(1000, 1), reading(1000, 2), reading(1000, 1), reading(1010, undefined), reading(1010, undefined)]);
  assert.equal(rows.add([reading(1010, 3), { ...reading(1020, 4), mag: [12.5, -3, 40.25], temp: 26.82 }]), 5);
  assert.equal(rows.distinct, 5);
  const { payload, rows: count } = rows.take();
  assert.equal(count, 5);
  assert.equal(rows.buffered, 0);
  assert.deepEqual(payload.toString('utf8').split('\n'), [
    'H\tD\tS\t1000\t1\t0.5\t-1.25\t9.81\t0\t0.001\t-3e-7\t\\N\t\\N\t\\N\t\\N',
    'H\tD\tS\t1000\t2\t0.5\t-1.25\t9.81\t0\t0.001\t-3e-7\t\\N\t\\N\t\\N\t\\N',
    'H\tD\tS\t1010\t-1\t0.5\t-1.25\t9.81\t0\t0.001\t-3e-7\t\\N\t\\N\t\\N\t\\N',
    'H\tD\tS\t1010\t3\t0.5\t-1.25\t9.81\t0\t0.001\t-3e-7\t\\N\t\\N\t\\N\t\\N',
    'H\tD\tS\t1020\t4\t0.5\t-1.25\t9.81\t0\t0.001\t-3e-7\t12.5\t-3\t40.25\t26.82',
    '',
  ]);
  // A duplicate across a chunk boundary is still seen; part of a chunk can be taken.
  rows.add([reading(1020, 4), reading(1030, 5), reading(1040, 6)], 0, 2);
  assert.equal(rows.distinct, 6);
});

test('pg error messages lose the password, the user and any connection string', () => {
  const url = 'postgres://gym%40hub:s3cr%2Ft-pw@db.example.com:5432/gymhub?sslmode=require';
  assert.equal(redactPgMessage('password authentication failed for user "gym@hub"', url), 'password authentication failed for user "***"');
  assert.equal(redactPgMessage('bad s3cr/t-pw and s3cr%2Ft-pw', url), 'bad *** and ***');
  const leaked = redactPgMessage('cannot connect to postgres://other:hunter2@10.0.0.1/x', url);
  assert.doesNotMatch(leaked, /hunter2/);
  assert.equal(redactPgMessage('connect ECONNREFUSED 127.0.0.1:5432', url), 'connect ECONNREFUSED 127.0.0.1:5432');
  assert.equal(pgTarget(url), 'db.example.com:5432/gymhub');
  assert.equal(redactPgMessage('user "pg" has no access', 'postgres://pg:x@h/db'), 'user "pg" has no access', 'a very short user name is left: masking it would mangle words');
});

test('unreachable (retried as backoff) versus refused (reported as error)', () => {
  const dbError = (code: string) => Object.assign(new pg.DatabaseError('x', 1, 'error'), { code });
  assert.equal(isUnreachable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })), true);
  assert.equal(isUnreachable(new Error('Connection terminated unexpectedly')), true);
  assert.equal(isUnreachable(dbError('57P01')), true, 'admin shutdown');
  assert.equal(isUnreachable(dbError('57P03')), true, 'starting up');
  assert.equal(isUnreachable(dbError('53300')), true, 'too many connections');
  assert.equal(isUnreachable(dbError('40P01')), true, 'deadlock');
  assert.equal(isUnreachable(dbError('28P01')), false, 'wrong password');
  assert.equal(isUnreachable(dbError('42P01')), false, 'no such table');
  assert.equal(isUnreachable(new SyncIntegrityError('S', 3, 2)), false);
});

test('health of sync: off, ok, degraded with why and when it retries', () => {
  assert.deepEqual(syncHealth(SYNC_OFF.status(), 0), { state: 'off', detail: 'sync.postgresUrl (GYMHUB_PG_URL) is not set' });
  const base = { ...SYNC_OFF.status(), target: 'db:5432/gymhub' };
  assert.equal(syncHealth({ ...base, state: 'idle' }, 0).state, 'ok');
  const degraded = syncHealth({ ...base, state: 'backoff', lastError: { message: 'connect ECONNREFUSED', at: 0 }, nextAttemptAt: 4000 }, 1000);
  assert.equal(degraded.state, 'degraded');
  assert.equal(degraded.detail, 'cannot reach Postgres (db:5432/gymhub): connect ECONNREFUSED; next try in 3 s');
});

test('with sync off: GET /sync says off, POST /sync is a 409, /health says off', async (t) => {
  const hub = await startTestHub();
  t.after(() => hub.close());
  const get = await hub.hub.app.inject({ url: '/api/v1/sync', headers: AUTH });
  assert.equal(get.statusCode, 200);
  assert.equal(get.json().state, 'off');
  const post = await hub.hub.app.inject({ method: 'POST', url: '/api/v1/sync', headers: AUTH });
  assert.equal(post.statusCode, 409);
  assert.equal(post.json().error, 'sync_off');
  assert.match(post.json().message, /GYMHUB_PG_URL/);
  assert.equal((await hub.hub.app.inject({ method: 'POST', url: '/api/v1/sync?wait=false', headers: AUTH })).statusCode, 409);
  assert.equal(hub.hub.health().components.sync.state, 'off');
  const doc = (await hub.hub.app.inject('/docs/json')).json();
  assert.ok(doc.paths['/api/v1/sync'].get && doc.paths['/api/v1/sync'].post, 'documented');
});
