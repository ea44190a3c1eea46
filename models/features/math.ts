/** Small numeric helpers for the feature extractor; all allocation-free on the hot path. */

export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Linear-interpolated quantile of an ascending array (the first n values). */
export function quantileSorted(sorted: Float64Array, n: number, q: number): number {
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function mean(x: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i];
  return s / n;
}

/** Pearson correlation; 0 when either signal is constant (no evidence of a relation, and never NaN). */
export function pearson(x: Float64Array, y: Float64Array, n: number): number {
  const mx = mean(x, n);
  const my = mean(y, n);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  const d = Math.sqrt(sxx * syy);
  return d > 1e-12 ? sxy / d : 0;
}

/**
 * Largest |normalised cross-correlation| of x and y for lags in [-maxLag, maxLag], and that |lag| in samples.
 * Written into result[0], result[1].
 */
export function maxCrossCorrelation(x: Float64Array, y: Float64Array, n: number, maxLag: number, result: Float64Array): void {
  const mx = mean(x, n);
  const my = mean(y, n);
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  const d = Math.sqrt(sxx * syy);
  result[0] = 0;
  result[1] = 0;
  if (!(d > 1e-12)) return;
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let s = 0;
    const from = Math.max(0, -lag);
    const to = Math.min(n, n - lag);
    for (let i = from; i < to; i++) s += (x[i] - mx) * (y[i + lag] - my);
    const r = Math.abs(s / d);
    if (r > result[0] + 1e-12) {
      result[0] = r;
      result[1] = Math.abs(lag);
    }
  }
}

/**
 * Eigen-decomposition of a symmetric 3x3 matrix (row-major `m`, left unchanged) by cyclic Jacobi rotations.
 * Eigenvalues are written in descending order to `values`; the matching unit eigenvectors as the rows of
 * `vectors` (row-major 3x3). Robust for the repeated and zero eigenvalues of constant input.
 */
export function symmetricEigen3(m: Float64Array, values: Float64Array, vectors: Float64Array, work: Float64Array): void {
  const a = work; // 9 entries: the matrix being diagonalised
  a.set(m.subarray(0, 9));
  const v = vectors;
  v.fill(0);
  v[0] = v[4] = v[8] = 1;
  for (let sweep = 0; sweep < 30; sweep++) {
    const off = a[1] * a[1] + a[2] * a[2] + a[5] * a[5];
    const diag = a[0] * a[0] + a[4] * a[4] + a[8] * a[8];
    if (off <= 1e-30 * (diag + 1e-300)) break;
    for (let p = 0; p < 2; p++) {
      for (let q = p + 1; q < 3; q++) {
        const apq = a[p * 3 + q];
        if (apq === 0) continue;
        const app = a[p * 3 + p];
        const aqq = a[q * 3 + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < 3; k++) {
          const akp = a[k * 3 + p];
          const akq = a[k * 3 + q];
          a[k * 3 + p] = c * akp - s * akq;
          a[k * 3 + q] = s * akp + c * akq;
        }
        for (let k = 0; k < 3; k++) {
          const apk = a[p * 3 + k];
          const aqk = a[q * 3 + k];
          a[p * 3 + k] = c * apk - s * aqk;
          a[q * 3 + k] = s * apk + c * aqk;
        }
        // vectors are kept as rows: row p and row q rotate together
        for (let k = 0; k < 3; k++) {
          const vpk = v[p * 3 + k];
          const vqk = v[q * 3 + k];
          v[p * 3 + k] = c * vpk - s * vqk;
          v[q * 3 + k] = s * vpk + c * vqk;
        }
      }
    }
  }
  // sort descending (3 elements: a tiny insertion sort that swaps the eigenvector rows along)
  values[0] = a[0];
  values[1] = a[4];
  values[2] = a[8];
  for (let i = 1; i < 3; i++) {
    for (let j = i; j > 0 && values[j] > values[j - 1]; j--) {
      const tv = values[j];
      values[j] = values[j - 1];
      values[j - 1] = tv;
      for (let k = 0; k < 3; k++) {
        const t = v[j * 3 + k];
        v[j * 3 + k] = v[(j - 1) * 3 + k];
        v[(j - 1) * 3 + k] = t;
      }
    }
  }
}
