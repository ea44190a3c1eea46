import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LiveRecognizer, Recognizer, type LivePrediction } from '../../models/index.js';
import { bundledModel, recordingReadings, startRig, type Rig } from './helpers.js';

const SQUAT = 'squat_kamyar_set1_reps10_1.csv';

describe('live smoothing and sessions', () => {
  let rig: Rig;
  before(async () => {
    rig = await startRig();
  });
  after(() => rig.close());

  it('a session that starts or ends restarts the device\'s probability average; the stored windows are the smoothed ones', async () => {
    const readings = await recordingReadings(SQUAT, 'rack-s', rig.clock.now() + 1000);
    // the same stream, each window on its own: what a window is worth without its past
    const single = new LiveRecognizer(new Recognizer({ ...(await bundledModel()), smoothing: undefined }));
    const alone = new Map<number, LivePrediction>(single.push(readings).map((w) => [w.windowStart, w]));
    const emitted = () => rig.emitted.predictions.filter((p) => p.deviceId === 'rack-s');

    await rig.stream(readings.slice(0, 700));
    const beforeSession = emitted().length;
    assert.ok(beforeSession > 3);
    assert.ok(
      emitted().some((p) => Math.abs(p.confidence - alone.get(p.windowStart)!.confidence) > 1e-3),
      'windows of a continuing stream are averaged with their past',
    );
    const session = rig.sessions.start('rack-s');
    await rig.stream(readings.slice(700, 1400));
    const firstAfterStart = emitted()[beforeSession];
    assert.deepEqual(firstAfterStart.probabilities, alone.get(firstAfterStart.windowStart)!.probabilities);
    assert.ok(emitted().slice(beforeSession + 1).some((p) => Math.abs(p.confidence - alone.get(p.windowStart)!.confidence) > 1e-3));

    rig.sessions.end(session.id);
    const beforeEnd = emitted().length;
    await rig.stream(readings.slice(1400));
    await rig.service.idle();
    const firstAfterEnd = emitted()[beforeEnd];
    assert.equal(firstAfterEnd.sessionId, undefined);
    assert.deepEqual(firstAfterEnd.probabilities, alone.get(firstAfterEnd.windowStart)!.probabilities);

    const stored = await rig.service.listPredictions({ deviceId: 'rack-s', limit: 10_000 });
    assert.deepEqual(stored.items.map((p) => p.label), emitted().map((p) => p.label));
  });
});
