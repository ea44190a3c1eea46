/**
 * How much a window moves: sqrt of the summed per-axis variances of the accelerometer and of the gyroscope.
 * Both are unchanged by rotation of the sensor, and the gyroscope figure ignores its constant bias, which
 * on the real boards (~0.1 rad/s) is larger than the motion of a lifter standing still.
 */
export interface MotionLevel {
  accStd: number;
  gyroStd: number;
}

export function motionLevel(columns: readonly Float64Array[], offset: number, length: number): MotionLevel {
  return { accStd: vectorStd(columns, 0, offset, length), gyroStd: vectorStd(columns, 3, offset, length) };
}

function vectorStd(columns: readonly Float64Array[], first: number, offset: number, length: number): number {
  let total = 0;
  for (let c = first; c < first + 3; c++) {
    const x = columns[c];
    let sum = 0;
    let sumSq = 0;
    for (let i = offset; i < offset + length; i++) {
      sum += x[i];
      sumSq += x[i] * x[i];
    }
    const mean = sum / length;
    total += Math.max(0, sumSq / length - mean * mean);
  }
  return Math.sqrt(total);
}
