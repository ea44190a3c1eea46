import { lowPassZeroPhase } from './filters.js';
import type { Segment } from './resample.js';

/**
 * Training-time augmentation: the same set done slower or faster. Lifters differ most in tempo and
 * gentleness (the slowest lifter in the data moves the bar with a tenth of the acceleration of the
 * fastest), and a forest only knows the tempos it has seen. Done `speed` times slower (speed > 1) a
 * movement keeps its path and its orientations, while its linear acceleration shrinks by speed^2 and its
 * angular rates by speed. So the acceleration is split into gravity (a 0.25 Hz zero-phase low-pass: the
 * slowly turning gravity vector) and the rest; time is stretched; the rest is scaled by 1 / speed^2 and the
 * gyroscope by 1 / speed. Used only to add training windows, never on evaluation or live data.
 */
const GRAVITY_CUTOFF_HZ = 0.25;

export function stretchSegment(segment: Segment, speed: number): Segment {
  const n = segment.length;
  if (n < 2 || !(speed > 0)) return segment;
  const m = Math.floor((n - 1) * speed) + 1;
  const gravity = [0, 1, 2].map((c) => lowPassZeroPhase(segment.columns[c], GRAVITY_CUTOFF_HZ, segment.rateHz));
  const columns = Array.from({ length: 6 }, () => new Float64Array(m));
  const accScale = 1 / (speed * speed);
  for (let j = 0; j < m; j++) {
    const t = j / speed;
    const i0 = Math.min(n - 2, Math.floor(t));
    const w = t - i0;
    for (let c = 0; c < 3; c++) {
      const x = segment.columns[c];
      const g = gravity[c][i0] + (gravity[c][i0 + 1] - gravity[c][i0]) * w;
      const a = x[i0] + (x[i0 + 1] - x[i0]) * w;
      columns[c][j] = g + (a - g) * accScale;
    }
    for (let c = 3; c < 6; c++) {
      const x = segment.columns[c];
      columns[c][j] = (x[i0] + (x[i0 + 1] - x[i0]) * w) / speed;
    }
  }
  return { t0Ms: segment.t0Ms, rateHz: segment.rateHz, length: m, columns };
}
