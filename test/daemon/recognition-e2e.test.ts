import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { BUNDLED_TRAIN_OPTIONS } from '../../models/bundled-options.js';
import { loadRecordings } from '../../models/dataset.js';
import { loadBundledModel } from '../../models/load-model.js';
import { ModelRegistry } from '../../models/registry.js';
import { trainModel } from '../../models/train.js';
import { encodeCompactBatch } from '../../drivers/codec/encode.js';
import { parseRecordingCsv } from '../../drivers/codec/recording.js';
import { planCompactBatches } from '../../drivers/simulator/replay-plan.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { AUTH, startTestHub } from '../helpers/hub.js';
import { SHARED_DATA } from '../helpers/process.js';

const LEFT_OUT = 'adam';
const SETS = [
  { file: 'squat/squat_adam_set1_reps10_1.csv', label: 'squat', reps: 10 },
  { file: 'bicep_curl/bicep_adam_set2_reps10_1.csv', label: 'bicep_curl', reps: 10 },
];

test(`sets of a lifter left out of training (${LEFT_OUT}), replayed through the daemon into sessions, are recognised by the session vote with reps within 2`, async (t) => {
  const recordings = (await loadRecordings(SHARED_DATA)).filter((r) => r.lifter !== LEFT_OUT);
  assert.ok(recordings.length > 30 && recordings.every((r) => r.lifter !== LEFT_OUT));
  const model = trainModel(recordings.map((r) => ({ label: r.label, samples: r.samples, group: r.lifter })), BUNDLED_TRAIN_OPTIONS);

  const clock = new FakeClock(Date.UTC(2026, 10, 22, 8));
  const hub = await startTestHub({}, clock, async (dataDir) => {
    const registry = new ModelRegistry({ dataDir, loadBundled: loadBundledModel, now: () => clock.now() });
    await registry.add(model, { note: `trained without ${LEFT_OUT}` }, { source: 'test', activate: true });
  });
  t.after(() => hub.close());
  assert.equal(hub.hub.health().components.model.version, model.version, 'the left-out model is the active one');
  const api = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) =>
    hub.hub.app.inject({ method, url, headers: AUTH, ...(payload !== undefined && { payload: payload as object }) });

  for (const set of SETS) {
    const deviceId = `e2e-${set.label}`;
    const started = await api('POST', '/api/v1/sessions', { deviceId, label: set.label });
    assert.equal(started.statusCode, 201, started.body);
    const sessionId = started.json().id as string;

    // The device streams the recording in format (b) at real time on the hub's (fake) clock.
    const origin = clock.now();
    const rows = parseRecordingCsv(await readFile(`${SHARED_DATA}/${set.file}`, 'utf8')).rows;
    for (const batch of planCompactBatches(rows)) {
      clock.advance(Math.max(0, origin + batch.atMs - clock.now()));
      const body = encodeCompactBatch({ deviceId, t0: origin + batch.t0Ms, dtMs: batch.dtMs, seq: batch.seq, samples: batch.samples });
      const answer = await hub.hub.app.inject({ method: 'POST', url: '/api/v1/readings', headers: { ...AUTH, 'content-type': 'application/json' }, payload: body });
      assert.equal(answer.statusCode, 202, answer.body);
    }
    clock.advance(2000);
    assert.equal((await api('PATCH', `/api/v1/sessions/${sessionId}`, { end: true })).statusCode, 200);
    clock.advance(2000);

    let session: { predictedLabel?: string; reps?: number; status: string } | undefined;
    const deadline = Date.now() + 10_000;
    do {
      await new Promise((resolve) => setImmediate(resolve));
      clock.advance(100);
      session = (await api('GET', `/api/v1/sessions/${sessionId}`)).json();
    } while ((session?.reps === undefined || session.predictedLabel === undefined) && Date.now() < deadline);
    console.log(`# ${set.file}: predicted ${session?.predictedLabel}, reps ${session?.reps} (file says ${set.reps})`);
    assert.equal(session?.status, 'ended');
    assert.equal(session?.predictedLabel, set.label);
    assert.ok(Math.abs((session?.reps ?? -100) - set.reps) <= 2, `reps ${session?.reps} vs ${set.reps}`);

    const predictions = (await api('GET', `/api/v1/predictions?sessionId=${sessionId}&limit=1000`)).json().items;
    assert.ok(predictions.length >= 10, 'one stored prediction per window');
    assert.ok(predictions.every((p: { modelVersion: string; sessionId: string }) => p.modelVersion === model.version && p.sessionId === sessionId));
  }
});
