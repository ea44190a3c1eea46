import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parseRecordingCsv } from '../../drivers/codec/recording.js';
import { makeCodec } from './support.js';

/** The shared recordings: ../shared/data/barbell-imu beside the repo, or GYMHUB_SHARED_DATA. */
const DATA_DIR = process.env.GYMHUB_SHARED_DATA ?? fileURLToPath(new URL('../../../shared/data/barbell-imu/', import.meta.url));

const files = readdirSync(DATA_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => readdirSync(join(DATA_DIR, d.name)).filter((f) => f.endsWith('.csv')).map((f) => join(DATA_DIR, d.name, f)))
  .sort();

/**
 * Counted independently of the codec with awk (numeric comparison of the six accel+gyro columns with the
 * previous row's; millis never repeats or runs back in these files):
 *   awk -F, 'NF{n++; k=($3+0)","($4+0)","($5+0)","($6+0)","($7+0)","($8+0); if(n>1&&k==p)s++; p=k}
 *            END{print n, n-s, s}' FILE
 */
const EXPECTED: Record<string, { lines: number; accepted: number; duplicates: number; rejected: number }> = {
  'squat_adam_set1_reps10_1.csv': { lines: 2073, accepted: 1438, duplicates: 635, rejected: 0 },
  'bicep_adam_set1_reps10_1.csv': { lines: 2034, accepted: 1375, duplicates: 659, rejected: 0 },
  // Has link drops of several seconds.
  'row_udai_set3_reps10_1.csv': { lines: 708, accepted: 569, duplicates: 139, rejected: 0 },
};

describe('the shared recordings as serial format (c)', () => {
  it('finds the recordings', () => {
    assert.ok(files.length >= 50, `only ${files.length} files under ${DATA_DIR}`);
  });

  it('decodes every line of every file, one codec, each file its own device, in real time', () => {
    const { codec, clock, ctx } = makeCodec();
    let totalDuplicates = 0;
    let totalLines = 0;
    for (const file of files) {
      const name = basename(file);
      const deviceId = name.replace(/\.csv$/, '');
      const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
      const firstMillis = Number(lines[0].split(',')[1]);
      const start = clock.now();
      let accepted = 0;
      let duplicates = 0;
      let rejected = 0;
      let lastTs = Number.NEGATIVE_INFINITY;
      for (const line of lines) {
        const millis = Number(line.split(',')[1]);
        const receivedAt = start + (millis - firstMillis);
        if (receivedAt > clock.now()) clock.advance(receivedAt - clock.now());
        const r = codec.decodeLine(line, ctx('serial', deviceId, receivedAt));
        accepted += r.readings.length;
        duplicates += r.duplicates;
        rejected += r.rejected;
        for (const reading of r.readings) {
          assert.equal(reading.deviceId, deviceId);
          // Lines arrive exactly as fast as the device's millis advance, so the mapping is exact.
          assert.equal(reading.ts, receivedAt);
          assert.ok(reading.ts >= lastTs);
          lastTs = reading.ts;
        }
      }
      assert.equal(accepted + duplicates + rejected, lines.length, name);
      assert.ok(accepted > 0, name);
      const counters = codec.deviceCounters(deviceId)!;
      assert.deepEqual([counters.accepted, counters.duplicates, counters.rejected], [accepted, duplicates, rejected], name);
      const expected = EXPECTED[name];
      if (expected) assert.deepEqual({ lines: lines.length, accepted, duplicates, rejected }, expected, name);
      totalDuplicates += duplicates;
      totalLines += lines.length;
      // Each file starts its own real-time stream.
      clock.advance(60_000);
    }
    assert.deepEqual(Object.keys(EXPECTED).filter((n) => !files.some((f) => basename(f) === n)), [], 'named files exist');
    assert.equal(codec.transportTotals().serial.rejected, 0);
    // About 31% of the rows re-send the previous sensor read.
    const share = totalDuplicates / totalLines;
    assert.ok(share > 0.25 && share < 0.35, `duplicate share ${share}`);
  });

  it('reads every file with parseRecordingCsv, no bad line', () => {
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const rec = parseRecordingCsv(text);
      assert.deepEqual(rec.badLines, [], basename(file));
      assert.equal(rec.rows.length, text.split('\n').filter((l) => l.length > 0).length);
      assert.ok(rec.rows.every((r) => r.node === 1 && r.values.length === 9));
    }
  });
});
