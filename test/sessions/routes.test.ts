import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseRecordingCsv } from '../../drivers/codec/recording.js';
import type { Reading } from '../../drivers/reading.js';
import { csvChunks, openExport } from '../../daemon/sessions/session-export.js';
import type { Session } from '../../daemon/sessions/types.js';
import { SHARED_DATA } from '../helpers/process.js';
import { collectIterate, readings } from '../store/store-helpers.js';
import { openApi, type ApiFixture } from './api-fixture.js';

let f: ApiFixture;
before(async () => {
  f = await openApi();
});
after(() => f.close());

const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
  f.app.inject({ method, url: `/api/v1${url}`, ...(payload !== undefined && { payload: payload as object }) });

/** Readings of a device at 100 Hz from `ts0`. */
function synthetic(deviceId: string, ts0: number, count: number, mag = false): Reading[] {
  return Array.from({ length: count }, (_, i) => ({
    deviceId,
    ts: ts0 + i * 10,
    accel: [0.5 + i * 0.001, -9.81, 0.25],
    gyro: [0.01, -0.02 * (i % 7), 0.125],
    ...(mag && { mag: [40.5, -42, 89.75] }),
  }));
}

async function storedIn(session: Session): Promise<Reading[]> {
  return (await collectIterate(f.store.iterate(session.deviceId, session.startedAt, session.endedAt ?? Infinity))).items;
}

describe('session routes', () => {
  it('start, read, label, list, end and delete over HTTP', async () => {
    const created = await call('POST', '/sessions', { deviceId: 'flow-1', candidates: ['squat'], notes: 'first set' });
    assert.equal(created.statusCode, 201, created.body);
    const session = created.json();
    assert.equal(created.headers.location, `/api/v1/sessions/${session.id}`);
    assert.deepEqual(session, { id: session.id, deviceId: 'flow-1', candidates: ['squat'], startedAt: f.sessions.clock.now(), notes: 'first set', status: 'active', synced: false });
    assert.equal((await call('POST', '/sessions', { deviceId: 'flow-1' })).statusCode, 409);

    assert.deepEqual((await call('GET', `/sessions/${session.id}`)).json(), session);
    assert.deepEqual((await call('GET', `/sessions/${session.id.toLowerCase()}`)).json(), session, 'ULIDs are case-insensitive');
    const labelled = await call('PATCH', `/sessions/${session.id}`, { label: 'squat', athleteId: 'ath-1', notes: null });
    assert.equal(labelled.statusCode, 200, labelled.body);
    assert.equal(labelled.json().label, 'squat');
    assert.equal(labelled.json().notes, undefined);

    f.sessions.clock.advance(30_000);
    const ended = (await call('PATCH', `/sessions/${session.id}`, { end: true })).json();
    assert.equal(ended.status, 'ended');
    assert.equal(ended.endedAt, session.startedAt + 30_000);

    const list = (await call('GET', '/sessions?deviceId=flow-1&status=ended&label=squat&limit=5')).json();
    assert.deepEqual(list, { items: [ended], nextCursor: null });
    assert.deepEqual((await call('GET', '/sessions?deviceId=flow-1&status=active')).json(), { items: [], nextCursor: null });

    const deleted = await call('DELETE', `/sessions/${session.id}`);
    assert.equal(deleted.statusCode, 204);
    assert.equal(deleted.body, '');
    assert.equal((await call('GET', `/sessions/${session.id}`)).statusCode, 404);
  });

  it('pages the list with nextCursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const s = (await call('POST', '/sessions', { deviceId: 'page-dev' })).json();
      await call('PATCH', `/sessions/${s.id}`, { end: true });
      ids.unshift(s.id);
      f.sessions.clock.advance(1_000);
    }
    const seen: string[] = [];
    let url = '/sessions?deviceId=page-dev&limit=3';
    for (;;) {
      const page = (await call('GET', url)).json();
      seen.push(...page.items.map((s: Session) => s.id));
      if (page.nextCursor === null) break;
      url = `/sessions?deviceId=page-dev&limit=3&cursor=${page.nextCursor}`;
    }
    assert.deepEqual(seen, ids, 'newest first, each once');
  });

  it('is described in the OpenAPI document', () => {
    const doc = f.app.swagger() as { paths: Record<string, Record<string, { description?: string }>> };
    for (const path of ['/api/v1/sessions', '/api/v1/sessions/{id}', '/api/v1/sessions/{id}/readings.csv', '/api/v1/sessions/{id}/readings.json']) assert.ok(doc.paths[path], path);
    assert.deepEqual(Object.keys(doc.paths['/api/v1/sessions/{id}']).sort(), ['delete', 'get', 'patch']);
    assert.match(doc.paths['/api/v1/sessions/{id}/readings.csv'].get.description!, /node,millis,ax,ay,az,gx,gy,gz\[,mx,my,mz\],ts/);
  });
});

describe('session export', () => {
  it("CSV of a real recording: the session's readings exactly as stored, each line format (c) plus the hub ts", async () => {
    const text = await readFile(join(SHARED_DATA, 'squat', 'squat_adam_set1_reps10_1.csv'), 'utf8');
    const recording = parseRecordingCsv(text).rows;
    const clock = f.sessions.clock;
    const deviceId = 'real-1';
    await f.store.append(synthetic(deviceId, clock.now() - 2_000, 150, true)); // before the session

    const session = (await call('POST', '/sessions', { deviceId, label: 'squat' })).json() as Session;
    const millis0 = recording[0].millis;
    const t0 = session.startedAt + 500;
    const rows: Reading[] = recording.map((row) => ({
      deviceId,
      ts: t0 + (row.millis - millis0),
      accel: [row.values[0], row.values[1], row.values[2]],
      gyro: [row.values[3], row.values[4], row.values[5]],
      mag: [row.values[6], row.values[7], row.values[8]],
    }));
    await f.store.append(rows);
    await f.store.append(synthetic('other-device', session.startedAt, 100));
    clock.advance(rows[rows.length - 1].ts - session.startedAt + 1);
    const ended = (await call('PATCH', `/sessions/${session.id}`, { end: true })).json() as Session;
    await f.store.append(synthetic(deviceId, ended.endedAt! + 5, 100, true)); // after the end

    const response = await call('GET', `/sessions/${session.id}/readings.csv`);
    assert.equal(response.statusCode, 200);
    assert.match(response.headers['content-type'] as string, /^text\/csv/);
    assert.match(response.headers['content-disposition'] as string, new RegExp(`session-${session.id}\\.csv`));
    const lines = response.body.split('\n');
    assert.equal(lines.pop(), '', 'ends with a line break');
    assert.equal(lines[0], 'node,millis,ax,ay,az,gx,gy,gz,mx,my,mz,ts');

    const stored = await storedIn(ended);
    assert.equal(stored.length, recording.length, 'only the session: not the readings before, after, or of another device');
    assert.equal(lines.length - 1, stored.length);
    lines.slice(1).forEach((line, i) => {
      const r = stored[i];
      const expected = [1, Math.round(r.ts - ended.startedAt), ...r.accel, ...r.gyro, ...r.mag!, r.ts];
      assert.deepEqual(line.split(',').map(Number), expected, `line ${i + 2}`);
    });

    // Without its last column, the export reads back as the recording the device sent (values, and time steps).
    const asFormatC = lines.slice(1).map((line) => line.slice(0, line.lastIndexOf(','))).join('\n');
    const parsed = parseRecordingCsv(asFormatC);
    assert.deepEqual(parsed.badLines, []);
    parsed.rows.forEach((row, i) => {
      assert.deepEqual(row.values, recording[i].values, `row ${i}`);
      assert.equal(row.millis, 500 + recording[i].millis - millis0);
    });

    const json = await call('GET', `/sessions/${session.id}/readings.json`);
    assert.equal(json.statusCode, 200);
    assert.match(json.headers['content-type'] as string, /^application\/json/);
    assert.deepEqual(json.json(), stored);
  });

  it('an active session exports up to now; an empty one is a header or []; mag columns follow the first readings', async () => {
    const empty = (await call('POST', '/sessions', { deviceId: 'empty-1' })).json();
    assert.equal((await call('GET', `/sessions/${empty.id}/readings.csv`)).body, 'node,millis,ax,ay,az,gx,gy,gz,ts\n');
    assert.deepEqual((await call('GET', `/sessions/${empty.id}/readings.json`)).json(), []);

    const active = (await call('POST', '/sessions', { deviceId: 'mixed-1' })).json() as Session;
    await f.store.append(synthetic('mixed-1', active.startedAt, 3, true));
    await f.store.append(synthetic('mixed-1', active.startedAt + 100, 2, false));
    const body = (await call('GET', `/sessions/${active.id}/readings.csv`)).body.trim().split('\n');
    assert.equal(body.length, 6);
    assert.equal(body[0], 'node,millis,ax,ay,az,gx,gy,gz,mx,my,mz,ts');
    assert.equal(body[1].split(',').length, 12);
    assert.match(body[5], /^1,110,[^,]+,[^,]+,[^,]+,[^,]+,[^,]+,[^,]+,,,,\d+$/, 'no magnetometer: empty cells');
  });

  it('streams a long session chunk by chunk', async () => {
    const s = (await call('POST', '/sessions', { deviceId: 'long-1' })).json() as Session;
    for (let b = 0; b < 20; b++) await f.store.append(readings('long-1', 0, 256).map((r, i) => ({ ...r, ts: s.startedAt + (b * 256 + i) * 10 })));
    const chunks: string[] = [];
    for await (const chunk of csvChunks(s, await openExport(f.store, s))) chunks.push(chunk);
    assert.ok(chunks.length >= 10, `${chunks.length} chunks`);
    assert.ok(Math.max(...chunks.map((c) => c.length)) < chunks.join('').length / 5, 'no chunk holds most of the session');

    const response = await call('GET', `/sessions/${s.id}/readings.csv`);
    assert.equal(response.body.trim().split('\n').length, 1 + 20 * 256);
  });
});
