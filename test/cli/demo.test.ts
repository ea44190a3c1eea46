import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { runGymhub } from '../helpers/process.js';

const PREDICTION_LINE = /^(\d\d:\d\d:\d\d) {2}(squat-1|curl-1) +([a-z_]+) +\((\d\.\d\d)\) {2}reps (\d+)$/gm;

interface Seen {
  labels: Map<string, number>;
  maxReps: number;
}

/** The exercise most windows named, rest and unknown aside. */
function topExercise(labels: Map<string, number>): string | undefined {
  return [...labels.entries()].filter(([label]) => label !== 'rest' && label !== 'unknown').sort((a, b) => b[1] - a[1])[0]?.[0];
}

describe('gymhub demo', () => {
  // Needs live recognition in the hub (the bus's 'prediction' and 'reps' events): without it the demo runs,
  // but prints no window lines and says so in its summary, and this test fails on the first assertion below.
  it('runs a whole hub with no setup and prints the recognised exercises and rep counts as they happen', { timeout: 60_000 }, async () => {
    const result = await runGymhub(['demo', '--duration', '20', '--port', '0'], {}, 50_000);
    assert.equal(result.code, 0, result.stderr);
    const out = result.stdout;
    assert.match(out, /^ {2}API {6}http:\/\/127\.0\.0\.1:\d+ /m);
    assert.match(out, /^ {2}token {4}[A-Za-z0-9_-]{43}$/m);
    assert.match(out, /^ {2}MQTT {5}mqtt:\/\/127\.0\.0\.1:\d+$/m);
    assert.match(out, /^ {2}device {3}squat-1: recording squat_\S+\.csv; station candidates squat$/m);
    assert.match(out, /^ {2}device {3}curl-1: recording bicep_\S+\.csv; station candidates bicep_curl, shoulder_press$/m);

    const seen = new Map<string, Seen>([['squat-1', { labels: new Map(), maxReps: 0 }], ['curl-1', { labels: new Map(), maxReps: 0 }]]);
    for (const [, , device, label, confidence, reps] of out.matchAll(PREDICTION_LINE)) {
      const s = seen.get(device)!;
      s.labels.set(label, (s.labels.get(label) ?? 0) + 1);
      s.maxReps = Math.max(s.maxReps, Number(reps));
      assert.ok(Number(confidence) >= 0 && Number(confidence) <= 1);
    }
    for (const [device, exercise] of [['squat-1', 'squat'], ['curl-1', 'bicep_curl']] as const) {
      const s = seen.get(device)!;
      const windows = [...s.labels.values()].reduce((a, b) => a + b, 0);
      // ~2.56 s windows every 1.28 s: a device streaming for ~20 s completes a dozen or more.
      assert.ok(windows >= 8, `${device}: ${windows} prediction lines\n${out}`);
      assert.equal(topExercise(s.labels), exercise, `${device}: ${JSON.stringify([...s.labels])}`);
      assert.ok(s.maxReps >= 2, `${device}: reps reached ${s.maxReps}`);
    }

    assert.match(out, /^Summary after 2\ds:$/m);
    assert.match(out, /^ {2}squat-1 {2}[\d,]+ readings, \d+ windows \(squat \d+/m);
    assert.match(out, /^ {2}curl-1 {3}[\d,]+ readings, \d+ windows \(bicep_curl \d+/m);
    const dataDir = /^ {2}data {5}(\S+) \(removed when the demo stops\)$/m.exec(out)![1];
    await assert.rejects(access(dataDir), { code: 'ENOENT' }, 'the temporary data directory is gone');
  });
});
