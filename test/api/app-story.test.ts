import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import WebSocket from 'ws';
import { encodeCompactBatch } from '../../drivers/codec/encode.js';
import { parseRecordingCsv } from '../../drivers/codec/recording.js';
import { planCompactBatches } from '../../drivers/simulator/replay-plan.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { AUTH, startTestHub, TEST_TOKEN } from '../helpers/hub.js';
import { SHARED_DATA } from '../helpers/process.js';

const FILE = `${SHARED_DATA}/squat/squat_kamyar_set1_reps10_1.csv`;

test("the app's whole story through HTTP and the WebSocket", async (t) => {
  const clock = new FakeClock(Date.UTC(2026, 10, 22, 9));
  const hub = await startTestHub({}, clock);
  t.after(() => hub.close());
  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    hub.hub.app.inject({ method, url, headers: AUTH, ...(payload !== undefined && { payload: payload as object }) });

  // Pair the squat rack's sensor with its station's exercises (its sessions' default candidates).
  const paired = await api('POST', '/api/v1/devices/pair', { transport: 'http', deviceId: 'rack-3', candidates: ['squat', 'shoulder_press'] });
  assert.equal(paired.statusCode, 201, paired.body);

  // The app listens live.
  const ws = new WebSocket(`ws://127.0.0.1:${hub.hub.address.port}/api/v1/stream?token=${TEST_TOKEN}&deviceId=rack-3&readingsHz=5`);
  const messages: Array<Record<string, unknown>> = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  t.after(() => ws.close());

  const started = await api('POST', '/api/v1/sessions', { deviceId: 'rack-3', athleteId: 'member-17' });
  assert.equal(started.statusCode, 201, started.body);
  const session = started.json();

  // The sensor streams a real recording, in real time on the hub's clock.
  const origin = clock.now();
  const rows = parseRecordingCsv(await readFile(FILE, 'utf8')).rows;
  const sent: Array<{ values: number[] }> = [];
  for (const batch of planCompactBatches(rows)) {
    clock.advance(Math.max(0, origin + batch.atMs - clock.now()));
    const body = encodeCompactBatch({ deviceId: 'rack-3', t0: origin + batch.t0Ms, dtMs: batch.dtMs, seq: batch.seq, samples: batch.samples });
    const answer = await hub.hub.app.inject({ method: 'POST', url: '/api/v1/readings', headers: { ...AUTH, 'content-type': 'application/json' }, payload: body });
    assert.equal(answer.statusCode, 202);
    batch.samples.forEach((values) => sent.push({ values }));
  }
  clock.advance(1500);
  const deadline = Date.now() + 5000;
  while (!messages.some((m) => m.type === 'reps' && (m.reps as number) >= 5) && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
  const predictions = messages.filter((m) => m.type === 'prediction');
  const reps = messages.filter((m) => m.type === 'reps');
  assert.ok(predictions.length >= 10, `live predictions on the stream: ${predictions.length}`);
  assert.ok(predictions.every((p) => p.sessionId === session.id && ['squat', 'shoulder_press', 'rest', 'unknown'].includes(p.label as string)), 'restricted to the station');
  assert.ok(reps.length > 0 && reps.every((r) => r.sessionId === session.id), 'live rep counts on the stream');
  assert.ok(messages.some((m) => m.type === 'readings'), 'decimated readings on the stream');
  assert.ok(messages.some((m) => m.type === 'session' && m.event === 'started'));

  // Label, end, fetch.
  assert.equal((await api('PATCH', `/api/v1/sessions/${session.id}`, { label: 'squat', notes: 'heavy day' })).statusCode, 200);
  assert.equal((await api('PATCH', `/api/v1/sessions/${session.id}`, { end: true })).statusCode, 200);
  let fetched = (await api('GET', `/api/v1/sessions/${session.id}`)).json();
  for (let i = 0; i < 100 && (fetched.reps === undefined || fetched.predictedLabel === undefined); i++) {
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(100);
    fetched = (await api('GET', `/api/v1/sessions/${session.id}`)).json();
  }
  assert.equal(fetched.status, 'ended');
  assert.equal(fetched.label, 'squat');
  assert.equal(fetched.predictedLabel, 'squat');
  assert.ok(Math.abs(fetched.reps - 10) <= 2, `reps ${fetched.reps}`);

  // Export the CSV and compare it with what was sent.
  const csv = await api('GET', `/api/v1/sessions/${session.id}/readings.csv`);
  assert.equal(csv.statusCode, 200);
  const lines = csv.body.trim().split('\n');
  const data = lines.slice(1).map((line) => line.split(',').map(Number));
  assert.equal(data.length, sent.length, 'every sample sent is in the export');
  for (let i = 0; i < sent.length; i++) {
    assert.deepEqual(data[i].slice(2, 2 + sent[i].values.length), sent[i].values, `row ${i}`);
  }

  assert.equal((await api('DELETE', `/api/v1/sessions/${session.id}`)).statusCode, 204);
  assert.equal((await api('GET', `/api/v1/sessions/${session.id}`)).statusCode, 404);
});
