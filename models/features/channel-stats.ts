import { CHANNEL_STATS, STAT } from './feature-list.js';
import { quantileSorted } from './math.js';
import type { SpectrumAnalyzer } from './spectrum.js';

/** Band edges of the band-power features (Hz), matching band0..band5 in feature-list.ts. */
const BAND_EDGES_HZ = [0.75, 1.5, 3, 6, 12];
const ROLLOFF_SHARE = 0.85;
const SILENT = 1e-18;

/**
 * Computes every statistic of CHANNEL_STATS for one channel into `row` (indexed by STAT). Scratch buffers
 * are owned by the caller so that nothing is allocated per window.
 */
export class ChannelStatsComputer {
  readonly statCount = CHANNEL_STATS.length;
  private readonly sorted: Float64Array;
  private readonly deviations: Float64Array;
  private readonly n: number;
  private readonly rateHz: number;
  private readonly spectrum: SpectrumAnalyzer;
  private readonly bandOfBin: Int8Array;

  constructor(length: number, rateHz: number, spectrum: SpectrumAnalyzer) {
    this.n = length;
    this.rateHz = rateHz;
    this.spectrum = spectrum;
    this.sorted = new Float64Array(length);
    this.deviations = new Float64Array(length);
    const bins = spectrum.fftSize / 2 + 1;
    this.bandOfBin = new Int8Array(bins);
    for (let k = 0; k < bins; k++) {
      const f = (k * rateHz) / spectrum.fftSize;
      let band = 0;
      while (band < BAND_EDGES_HZ.length && f >= BAND_EDGES_HZ[band]) band++;
      this.bandOfBin[k] = band;
    }
  }

  compute(x: Float64Array, row: Float64Array): void {
    const n = this.n;
    const fs = this.rateHz;
    const durationS = n / fs;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += x[i];
    const mean = sum / n;
    let m2 = 0;
    let m3 = 0;
    let m4 = 0;
    let absSum = 0;
    let maxAbs = 0;
    let diffSum = 0;
    for (let i = 0; i < n; i++) {
      const d = x[i] - mean;
      const d2 = d * d;
      m2 += d2;
      m3 += d2 * d;
      m4 += d2 * d2;
      const ax = Math.abs(x[i]);
      absSum += ax;
      if (ax > maxAbs) maxAbs = ax;
      if (i > 0) diffSum += Math.abs(x[i] - x[i - 1]);
    }
    m2 /= n;
    m3 /= n;
    m4 /= n;
    const std = Math.sqrt(m2);
    // a signal that is constant up to rounding has no shape: its shape statistics are 0, never NaN
    const flat = !(std > 1e-9 * (1 + Math.abs(mean)));
    const skew = flat ? 0 : m3 / (std * std * std);

    const sorted = this.sorted;
    sorted.set(x.subarray(0, n));
    sorted.sort();
    const median = quantileSorted(sorted, n, 0.5);
    const deviations = this.deviations;
    for (let i = 0; i < n; i++) deviations[i] = Math.abs(x[i] - median);
    deviations.sort();

    let crossings = 0;
    let upperCrossings = 0;
    const upper = mean + 0.5 * std;
    let prevSign = 0;
    for (let i = 0; i < n; i++) {
      const d = x[i] - mean;
      const sign = flat ? 0 : d > 0 ? 1 : d < 0 ? -1 : 0;
      if (sign !== 0) {
        if (prevSign !== 0 && sign !== prevSign) crossings++;
        prevSign = sign;
      }
      if (!flat && i > 0 && x[i - 1] < upper && x[i] >= upper) upperCrossings++;
    }

    row[STAT.std] = std;
    row[STAT.range] = sorted[n - 1] - sorted[0];
    row[STAT.iqr] = quantileSorted(sorted, n, 0.75) - quantileSorted(sorted, n, 0.25);
    row[STAT.mad] = quantileSorted(deviations, n, 0.5);
    row[STAT.kurtosis] = flat ? 0 : m4 / (m2 * m2) - 3;
    row[STAT.absSkew] = Math.abs(skew);
    row[STAT.meanAbsDiff] = (diffSum / Math.max(1, n - 1)) * fs;
    row[STAT.crossRate] = crossings / durationS;
    row[STAT.upperCrossRate] = upperCrossings / durationS;
    row[STAT.mean] = mean;
    row[STAT.min] = sorted[0];
    row[STAT.max] = sorted[n - 1];
    row[STAT.median] = median;
    row[STAT.p10] = quantileSorted(sorted, n, 0.1);
    row[STAT.p90] = quantileSorted(sorted, n, 0.9);
    row[STAT.skew] = skew;
    row[STAT.maxAbs] = maxAbs;
    row[STAT.meanAbs] = absSum / n;

    this.spectral(x, mean, flat, row);
    this.periodicity(x, mean, flat, row);
  }

  private spectral(x: Float64Array, mean: number, flat: boolean, row: Float64Array): void {
    const spectrum = this.spectrum;
    const half = spectrum.fftSize / 2;
    const binHz = this.rateHz / spectrum.fftSize;
    let total = 0;
    if (!flat) {
      spectrum.computePower(x, mean);
      for (let k = 1; k <= half; k++) total += spectrum.power[k];
    }
    const bandStart = STAT.band0;
    if (!(total > SILENT)) {
      row[STAT.domFreq] = 0;
      row[STAT.domShare] = 0;
      row[STAT.centroid] = 0;
      row[STAT.spread] = 0;
      row[STAT.entropy] = 0;
      row[STAT.rolloff] = 0;
      for (let b = 0; b <= BAND_EDGES_HZ.length; b++) row[bandStart + b] = 0;
      return;
    }
    const p = spectrum.power;
    let best = 1;
    let centroid = 0;
    let entropy = 0;
    for (let b = 0; b <= BAND_EDGES_HZ.length; b++) row[bandStart + b] = 0;
    for (let k = 1; k <= half; k++) {
      if (p[k] > p[best]) best = k;
      const share = p[k] / total;
      centroid += share * k * binHz;
      if (share > 0) entropy -= share * Math.log(share);
      row[bandStart + this.bandOfBin[k]] += share;
    }
    let spread = 0;
    let cumulative = 0;
    let rolloff = half * binHz;
    let rolloffFound = false;
    for (let k = 1; k <= half; k++) {
      const share = p[k] / total;
      const df = k * binHz - centroid;
      spread += share * df * df;
      cumulative += share;
      if (!rolloffFound && cumulative >= ROLLOFF_SHARE) {
        rolloff = k * binHz;
        rolloffFound = true;
      }
    }
    row[STAT.domFreq] = best * binHz;
    row[STAT.domShare] = p[best] / total;
    row[STAT.centroid] = centroid;
    row[STAT.spread] = Math.sqrt(spread);
    row[STAT.entropy] = half > 1 ? entropy / Math.log(half) : 0;
    row[STAT.rolloff] = rolloff;
  }

  private periodicity(x: Float64Array, mean: number, flat: boolean, row: Float64Array): void {
    const n = this.n;
    const fs = this.rateHz;
    const windowS = n / fs;
    if (flat) {
      row[STAT.acPeak] = 0;
      row[STAT.acPeakLag] = windowS;
      row[STAT.acZeroLag] = windowS;
      row[STAT.ac025] = 0;
      row[STAT.ac050] = 0;
      row[STAT.ac100] = 0;
      return;
    }
    this.spectrum.computeAutocorrelation(x, mean);
    const ac = this.spectrum.autocorr;
    let zero = -1;
    for (let lag = 1; lag < n; lag++) {
      if (ac[lag] <= 0) {
        zero = lag;
        break;
      }
    }
    let peak = -1;
    if (zero > 0) {
      for (let lag = zero + 1; lag < n - 1; lag++) {
        if (ac[lag] > 0 && ac[lag] >= ac[lag - 1] && ac[lag] > ac[lag + 1]) {
          peak = lag;
          break;
        }
      }
    }
    const at = (seconds: number): number => {
      const lag = Math.round(seconds * fs);
      return lag < n ? ac[lag] : 0;
    };
    row[STAT.acPeak] = peak > 0 ? ac[peak] : 0;
    row[STAT.acPeakLag] = peak > 0 ? peak / fs : windowS;
    row[STAT.acZeroLag] = zero > 0 ? zero / fs : windowS;
    row[STAT.ac025] = at(0.25);
    row[STAT.ac050] = at(0.5);
    row[STAT.ac100] = at(1);
  }
}
