import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RandomForestClassifier } from 'ml-random-forest';
import { trainOnHub } from '../../daemon/recognition/hub-training.js';
import { BUNDLED_TRAIN_OPTIONS, FEATURE_COUNT, buildTrainingSet, type TrainOptions } from '../../models/index.js';
import { CompiledForest } from '../../models/forest.js';
import { loadShared } from '../models/helpers.js';
import { silent, startRig, type Rig } from './helpers.js';

const LIFTERS = ['adam_set1_reps10', 'anuj_set1_rep10', 'kamyar_set1_reps10', 'suzan_set1_reps10', 'udai_set1_reps10'];
const FILES = ['squat', 'bicep', 'shoulder'].flatMap((exercise) => LIFTERS.map((lifter) => `${exercise}_${lifter}_1.csv`));

/** Small recipes so that training takes a fraction of a second: a useful one, and one that cannot be good. */
const SMALL: TrainOptions = { ...BUNDLED_TRAIN_OPTIONS, augmentSpeeds: [], forest: { ...BUNDLED_TRAIN_OPTIONS.forest, nEstimators: 10 } };
const STUMP: TrainOptions = { ...SMALL, forest: { ...SMALL.forest, nEstimators: 1, maxDepth: 1 } };

/** The 15 recordings as ended, labelled sessions of three stations, their readings in the reading store. */
async function addLabelledSessions(rig: Rig): Promise<void> {
  const recordings = await loadShared(FILES);
  for (const [i, recording] of recordings.entries()) {
    const deviceId = `station-${i % 3}`;
    const t0 = rig.clock.now() + 5000;
    const first = recording.samples[0].ts;
    const readings = recording.samples.map((s) => ({ deviceId, ts: t0 + (s.ts - first), accel: s.accel, gyro: s.gyro }));
    await rig.readings.append(readings);
    const endedAt = readings[readings.length - 1].ts + 1;
    rig.clock.advance(endedAt + 5000 - rig.clock.now());
    rig.sessions.addEnded({ deviceId, label: recording.label, startedAt: t0, endedAt });
  }
}

describe('training on the hub', () => {
  let stumpRig: Rig;
  let rig: Rig;
  before(async () => {
    stumpRig = await startRig({ service: { training: { trainOptions: STUMP } } });
    rig = await startRig({ service: { training: { trainOptions: SMALL } } });
    await addLabelledSessions(stumpRig);
    await addLabelledSessions(rig);
  });
  after(async () => {
    await stumpRig.close();
    await rig.close();
  });

  it('keeps the current model when the new one is worse on the held-out sessions, activates it when forced, rolls back', async () => {
    const bundled = stumpRig.service.status().version!;
    const result = await stumpRig.service.train();
    assert.equal(result.activated, false);
    assert.equal(result.created, true);
    assert.equal(result.previous, bundled);
    assert.equal(result.active, bundled);
    assert.equal(result.metrics.testSessions, 3, 'one held-out session per exercise (every 5th)');
    assert.equal(result.metrics.trainSessions, 12);
    assert.ok(result.metrics.heldOut.macroF1 < result.metrics.current.macroF1, JSON.stringify([result.metrics.heldOut.macroF1, result.metrics.current.macroF1]));
    assert.equal(result.metrics.current.version, bundled);
    assert.equal(stumpRig.service.status().version, bundled);
    const listed = (await stumpRig.service.models()).find((m) => m.version === result.version)!;
    assert.equal(listed.source, 'hub');
    assert.equal(listed.active, false);
    assert.deepEqual(listed.classes, ['bicep_curl', 'shoulder_press', 'squat']);
    assert.equal((listed.metrics as { heldOut: { macroF1: number } }).heldOut.macroF1, result.metrics.heldOut.macroF1);

    const forced = await stumpRig.service.train({ force: true });
    assert.equal(forced.version, result.version, 'same sessions and seed: the same model');
    assert.equal(forced.created, false);
    assert.equal(forced.activated, true);
    assert.equal(forced.forced, true);
    assert.equal(stumpRig.service.status().version, result.version);
    assert.equal(stumpRig.service.status().source, 'hub');
    assert.deepEqual(stumpRig.service.classes(), ['bicep_curl', 'shoulder_press', 'squat']);

    const back = await stumpRig.service.rollback();
    assert.deepEqual(back, { version: bundled, previous: result.version });
    assert.equal(stumpRig.service.status().version, bundled);
  });

  it('refuses a second training while one runs', async () => {
    const first = stumpRig.service.train();
    await assert.rejects(stumpRig.service.train(), (err: { statusCode?: number; code?: string }) => err.statusCode === 409 && err.code === 'conflict');
    assert.equal(stumpRig.service.status().training, 'running');
    await first;
    assert.equal(stumpRig.service.status().training, 'idle');
  });

  it('stops a running training when asked (the hub stopping): the request answers 503', async () => {
    const running = stumpRig.service.train();
    await stumpRig.service.cancelTraining();
    await assert.rejects(running, (err: { statusCode?: number; code?: string }) => err.statusCode === 503 && err.code === 'training_cancelled');
    assert.equal(stumpRig.service.status().training, 'idle');
  });

  it('activates a model that is not worse by itself; live windows then come from it', async () => {
    // make a weak model the current one, so that the useful recipe beats it
    const stump = (await stumpRig.service.models()).find((m) => m.source === 'hub')!;
    await rig.registry.add(await stumpRig.registry.get(stump.version), undefined, { source: 'hub' });
    await rig.service.activate(stump.version);
    const [squat] = await loadShared(['squat_adam_set2_reps10_1.csv']);
    const t0 = rig.clock.now() + 1000;
    const readings = squat.samples.slice(0, 1200).map((s) => ({ deviceId: 'live-1', ts: t0 + s.ts - squat.samples[0].ts, accel: s.accel, gyro: s.gyro }));
    await rig.stream(readings.slice(0, 600));
    const before = rig.emitted.predictions.filter((p) => p.deviceId === 'live-1');
    assert.ok(before.length > 3 && before.every((p) => p.modelVersion === stump.version));

    const result = await rig.service.train();
    assert.equal(result.activated, true);
    assert.equal(result.forced, false);
    assert.equal(result.previous, stump.version);
    assert.ok(result.metrics.heldOut.macroF1 >= result.metrics.current.macroF1);
    assert.ok(result.metrics.heldOut.macroF1 >= 0.6, `held-out macro-F1 ${result.metrics.heldOut.macroF1}`);
    assert.equal(result.metrics.trainedIn, 'worker');
    assert.equal(rig.service.status().version, result.version);

    // the device already streaming is switched to the new model: its windowing starts again
    await rig.stream(readings.slice(600));
    const after = rig.emitted.predictions.filter((p) => p.deviceId === 'live-1').slice(before.length);
    assert.ok(after.length > 3 && after.every((p) => p.modelVersion === result.version));
    assert.ok(after[0].windowStart >= readings[600].ts, 'no window mixes signal from before the switch');
    assert.deepEqual(Object.keys(after[0].probabilities), ['bicep_curl', 'shoulder_press', 'squat', 'rest']);
  });

  it('a model trained on the hub, saved and reloaded by ml-random-forest, predicts exactly as before saving', async () => {
    const result = await rig.service.train({ seed: 7, force: true });
    const saved = JSON.parse(await readFile(join(rig.dir, 'models', result.version, 'model.json'), 'utf8'));
    const reloaded = RandomForestClassifier.load(saved.forest);
    const before = CompiledForest.fromJson(result.model.forest, result.model.classes.length, FEATURE_COUNT);
    const recordings = await loadShared(['squat_kamyar_set2_reps10_1.csv', 'bicep_adam_set2_reps10_1.csv', 'shoulder_anuj_set2_rep10_1.csv']);
    const rows = buildTrainingSet(recordings.map((r) => ({ label: r.label, samples: r.samples }))).rows;
    assert.ok(rows.length > 50);
    const libraryPredictions = reloaded.predict(rows.map((r) => Array.from(r)));
    const libraryVotes = reloaded.predictionValues(rows.map((r) => Array.from(r)));
    rows.forEach((row, i) => {
      assert.equal(libraryPredictions[i], before.majorityVote(row), `row ${i}`);
      assert.deepEqual(libraryVotes.getRow(i), Array.from(before.treeVotes(row)), `tree votes of row ${i}`);
    });
    // and the stored file is the model that was trained, byte for byte in meaning
    assert.deepEqual(saved.forest, JSON.parse(JSON.stringify(result.model.forest)));
  });

  it('trains the same model in the daemon thread when no worker is wanted', async () => {
    const current = (await rig.registry.active()).model;
    const inWorker = await trainOnHub({ sessions: rig.sessions, readings: rig.readings, log: silent, trainOptions: SMALL }, { current });
    const inThread = await trainOnHub({ sessions: rig.sessions, readings: rig.readings, log: silent, trainOptions: SMALL, useWorker: false }, { current });
    assert.equal(inWorker.mode, 'worker');
    assert.equal(inThread.mode, 'in-thread');
    assert.equal(inThread.model.version, inWorker.model.version);
    assert.deepEqual(inThread.candidate.confusion, inWorker.candidate.confusion);
  });

  it('says why it cannot train: one exercise only is a 409 not_enough_data', async () => {
    const lonely = await startRig();
    try {
      lonely.sessions.addEnded({ deviceId: 'x', label: 'squat', startedAt: 1, endedAt: 2 });
      lonely.sessions.addEnded({ deviceId: 'x', label: 'squat', startedAt: 3, endedAt: 4 });
      await assert.rejects(lonely.service.train(), (err: { statusCode?: number; code?: string; details?: unknown }) => {
        assert.equal(err.statusCode, 409);
        assert.equal(err.code, 'not_enough_data');
        assert.deepEqual(err.details, { sessionsPerLabel: { squat: 2 } });
        return true;
      });
      // two exercises but no readings behind the sessions: nothing to learn from
      lonely.sessions.addEnded({ deviceId: 'x', label: 'row', startedAt: 5, endedAt: 6 });
      await assert.rejects(lonely.service.train(), (err: { code?: string; message: string }) => err.code === 'not_enough_data' && /too little motion/.test(err.message));
    } finally {
      await lonely.close();
    }
  });
});
