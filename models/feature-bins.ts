/**
 * Quantile binning of training features, done once per forest: each tree then splits on bin codes
 * (cheap histograms) instead of re-sorting values at every node. A bin edge is the shortest decimal between
 * two neighbouring training values, so thresholds stay short in the model file and exact in meaning.
 */
export interface Binned {
  /** codes[f][row]: bin of the row's value of feature f (only for pool features). */
  codes: Uint8Array[];
  /** edges[f][b]: rows with bin <= b have x < edges[f][b]. */
  edges: Float64Array[];
}

/** The shortest decimal e with a < e <= b: thresholds stay short in the JSON and exact in meaning. */
export function shortThreshold(a: number, b: number): number {
  const mid = a + (b - a) / 2;
  for (let digits = 1; digits <= 17; digits++) {
    const e = Number(mid.toPrecision(digits));
    if (a < e && e <= b) return e;
  }
  return b;
}

export function binFeatures(rows: readonly ArrayLike<number>[], pool: readonly number[], maxBins: number): Binned {
  const n = rows.length;
  const codes: Uint8Array[] = [];
  const edges: Float64Array[] = [];
  const values = new Float64Array(n);
  for (const f of pool) {
    for (let i = 0; i < n; i++) values[i] = rows[i][f];
    const sorted = Float64Array.from(values).sort();
    let distinct = n > 0 ? 1 : 0;
    for (let i = 1; i < n; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
    const cuts: number[] = [];
    // few distinct values: a cut between each; else cuts at (about) equal-count quantiles
    let target = 1;
    for (let i = 0; i < n - 1 && cuts.length < maxBins - 1; i++) {
      if (sorted[i] === sorted[i + 1]) continue;
      if (distinct <= maxBins || (i + 1) * maxBins >= target * n) {
        cuts.push(shortThreshold(sorted[i], sorted[i + 1]));
        while (target * n <= (i + 1) * maxBins) target++;
      }
    }
    const e = Float64Array.from(cuts);
    const c = new Uint8Array(n);
    for (let i = 0; i < n; i++) c[i] = binOf(e, values[i]);
    codes[f] = c;
    edges[f] = e;
  }
  return { codes, edges };
}

/** Number of edges <= x: rows in bin b satisfy edges[b-1] <= x < edges[b]. */
function binOf(edges: Float64Array, x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

