import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Segment } from '../../models/resample.js';
import { segmentWindows, windowShape } from '../../models/windowing.js';

const segment = (length: number, t0Ms = 1000): Segment => ({
  t0Ms,
  rateHz: 50,
  length,
  columns: Array.from({ length: 6 }, () => new Float64Array(length)),
});

describe('windowing', () => {
  it('defaults to 2.56 s windows with 50% overlap: 128 samples every 64 at 50 Hz', () => {
    assert.deepEqual(windowShape(50), { length: 128, hop: 64 });
    assert.deepEqual(windowShape(100), { length: 256, hop: 128 });
    assert.deepEqual(windowShape(50, { windowS: 5.12, overlap: 0.75 }), { length: 256, hop: 64 });
    assert.deepEqual(windowShape(50, { overlap: 0 }), { length: 128, hop: 128 });
  });

  it('yields only complete windows, with their times', () => {
    const shape = windowShape(50);
    const windows = segmentWindows(segment(128 + 64 * 3 + 10), shape);
    assert.equal(windows.length, 4);
    assert.deepEqual(
      windows.map((w) => w.offset),
      [0, 64, 128, 192],
    );
    assert.equal(windows[1].startMs, 1000 + 64 * 20);
    assert.equal(windows[1].endMs, windows[1].startMs + 2560);
    assert.equal(segmentWindows(segment(127), shape).length, 0);
    assert.equal(segmentWindows(segment(128), shape).length, 1);
  });

  it('rejects overlap outside [0, 1)', () => {
    assert.throws(() => windowShape(50, { overlap: 1 }), RangeError);
    assert.throws(() => windowShape(50, { windowS: 0 }), RangeError);
  });
});
