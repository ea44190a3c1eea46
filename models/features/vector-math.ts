/** Small vector helpers of the feature extractor, on column arrays of one window. */

/** 3x3 second-moment matrix of (x, y, z), about the mean when `centred`. */
export function secondMoment(x: Float64Array, y: Float64Array, z: Float64Array, n: number, centred: boolean, m: Float64Array): void {
  let mx = 0;
  let my = 0;
  let mz = 0;
  if (centred) {
    for (let i = 0; i < n; i++) {
      mx += x[i];
      my += y[i];
      mz += z[i];
    }
    mx /= n;
    my /= n;
    mz /= n;
  }
  let xx = 0;
  let xy = 0;
  let xz = 0;
  let yy = 0;
  let yz = 0;
  let zz = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i] - mx;
    const b = y[i] - my;
    const c = z[i] - mz;
    xx += a * a;
    xy += a * b;
    xz += a * c;
    yy += b * b;
    yz += b * c;
    zz += c * c;
  }
  m[0] = xx / n;
  m[1] = xy / n;
  m[2] = xz / n;
  m[3] = xy / n;
  m[4] = yy / n;
  m[5] = yz / n;
  m[6] = xz / n;
  m[7] = yz / n;
  m[8] = zz / n;
}

/** Removes the least-squares line from x[0..n). */
export function detrend(x: Float64Array, n: number): void {
  const tMean = (n - 1) / 2;
  let xMean = 0;
  for (let i = 0; i < n; i++) xMean += x[i];
  xMean /= n;
  let stx = 0;
  let stt = 0;
  for (let i = 0; i < n; i++) {
    stx += (i - tMean) * (x[i] - xMean);
    stt += (i - tMean) * (i - tMean);
  }
  const slope = stt > 0 ? stx / stt : 0;
  for (let i = 0; i < n; i++) x[i] -= xMean + slope * (i - tMean);
}

export function absDot(rows: Float64Array, offset: number, w: Float64Array): number {
  return Math.abs(rows[offset] * w[0] + rows[offset + 1] * w[1] + rows[offset + 2] * w[2]);
}

export function varianceAlong(x: Float64Array, y: Float64Array, z: Float64Array, n: number, g: Float64Array): number {
  let s = 0;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const p = x[i] * g[0] + y[i] * g[1] + z[i] * g[2];
    s += p;
    ss += p * p;
  }
  const mean = s / n;
  return Math.max(0, ss / n - mean * mean);
}

/** Angle (rad) between the mean vectors of samples [a0, a1) and [b0, b1). */
export function angleBetweenMeans(
  x: Float64Array,
  y: Float64Array,
  z: Float64Array,
  a0: number,
  a1: number,
  b0: number,
  b1: number,
): number {
  let ax = 0;
  let ay = 0;
  let az = 0;
  let bx = 0;
  let by = 0;
  let bz = 0;
  for (let i = a0; i < a1; i++) {
    ax += x[i];
    ay += y[i];
    az += z[i];
  }
  for (let i = b0; i < b1; i++) {
    bx += x[i];
    by += y[i];
    bz += z[i];
  }
  const na = Math.hypot(ax, ay, az);
  const nb = Math.hypot(bx, by, bz);
  if (!(na > 1e-12 && nb > 1e-12)) return 0;
  return Math.acos(Math.min(1, Math.max(-1, (ax * bx + ay * by + az * bz) / (na * nb))));
}
