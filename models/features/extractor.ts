import { ChannelStatsComputer } from './channel-stats.js';
import { CrossFeatureComputer } from './cross-features.js';
import { CHANNEL, CHANNEL_LAYOUT, CROSS_FEATURES, FEATURE_CHANNELS, FEATURE_COUNT, SENSOR_CORR_PAIRS } from './feature-list.js';
import { pearson } from './math.js';
import { SpectrumAnalyzer } from './spectrum.js';
import { detrend } from './vector-math.js';

/**
 * Computes the FEATURES of feature-list.ts for windows of one length and rate. Holds all its buffers, so
 * one extractor serves every window of a device (or of a training run) without allocating.
 */
export class FeatureExtractor {
  readonly length: number;
  readonly rateHz: number;
  readonly featureCount = FEATURE_COUNT;
  private readonly raw: Float64Array[];
  private readonly channels: Float64Array[];
  private readonly statsRows: Float64Array[];
  private readonly cross: Float64Array;
  private readonly stats: ChannelStatsComputer;
  private readonly crossComputer: CrossFeatureComputer;
  private gravityMag = 0;
  private readonly g = new Float64Array(3);
  private readonly u = new Float64Array(3);
  private readonly v = new Float64Array(3);

  constructor(length: number, rateHz: number) {
    if (!(length >= 8)) throw new RangeError(`window length must be at least 8 samples, got ${length}`);
    this.length = length;
    this.rateHz = rateHz;
    this.raw = Array.from({ length: 6 }, () => new Float64Array(length));
    this.channels = FEATURE_CHANNELS.map(() => new Float64Array(length));
    this.stats = new ChannelStatsComputer(length, rateHz, new SpectrumAnalyzer(length));
    this.statsRows = FEATURE_CHANNELS.map(() => new Float64Array(this.stats.statCount));
    this.cross = new Float64Array(CROSS_FEATURES.length);
    this.crossComputer = new CrossFeatureComputer(length, rateHz);
  }

  /**
   * Features of the window columns[c][offset .. offset + length) (columns: ax, ay, az, gx, gy, gz), written
   * to `out` (allocated when omitted) and returned.
   */
  extract(columns: readonly Float64Array[], offset: number, out: Float64Array = new Float64Array(FEATURE_COUNT)): Float64Array {
    const n = this.length;
    for (let c = 0; c < 6; c++) {
      const src = columns[c];
      const dst = this.raw[c];
      for (let i = 0; i < n; i++) dst[i] = src[offset + i];
    }
    this.deriveChannels();
    for (let c = 0; c < this.channels.length; c++) this.stats.compute(this.channels[c], this.statsRows[c]);
    this.crossComputer.compute(this.raw, this.channels, this.g, this.gravityMag, this.cross);

    let k = 0;
    for (const [c, s] of CHANNEL_LAYOUT) out[k++] = this.statsRows[c][s];
    for (let i = 0; i < this.cross.length; i++) out[k++] = this.cross[i];
    k = this.sensorFeatures(out, k);
    if (k !== FEATURE_COUNT) throw new Error(`feature layout mismatch: wrote ${k}, expected ${FEATURE_COUNT}`);
    return out;
  }

  /** Gravity-aligned frame and the derived channels of FEATURE_CHANNELS. */
  private deriveChannels(): void {
    const n = this.length;
    const [ax, ay, az, wx, wy, wz] = this.raw;
    const ch = this.channels;
    let mx = 0;
    let my = 0;
    let mz = 0;
    for (let i = 0; i < n; i++) {
      mx += ax[i];
      my += ay[i];
      mz += az[i];
    }
    mx /= n;
    my /= n;
    mz /= n;
    const gravityMag = Math.hypot(mx, my, mz);
    const g = this.g;
    if (gravityMag > 1e-9) {
      g[0] = mx / gravityMag;
      g[1] = my / gravityMag;
      g[2] = mz / gravityMag;
    } else {
      g[0] = 0;
      g[1] = 0;
      g[2] = 1;
    }
    this.gravityMag = gravityMag;
    this.horizontalBasis();
    const u = this.u;
    const v = this.v;

    // second moments in the horizontal plane: principal direction of motion (acc) and of rotation (gyro)
    let auu = 0;
    let auv = 0;
    let avv = 0;
    let wuu = 0;
    let wuv = 0;
    let wvv = 0;
    for (let i = 0; i < n; i++) {
      const dx = ax[i] - mx;
      const dy = ay[i] - my;
      const dz = az[i] - mz;
      const pu = dx * u[0] + dy * u[1] + dz * u[2];
      const pv = dx * v[0] + dy * v[1] + dz * v[2];
      auu += pu * pu;
      auv += pu * pv;
      avv += pv * pv;
      const qu = wx[i] * u[0] + wy[i] * u[1] + wz[i] * u[2];
      const qv = wx[i] * v[0] + wy[i] * v[1] + wz[i] * v[2];
      wuu += qu * qu;
      wuv += qu * qv;
      wvv += qv * qv;
    }
    const aTheta = 0.5 * Math.atan2(2 * auv, auu - avv);
    const wTheta = 0.5 * Math.atan2(2 * wuv, wuu - wvv);
    const ac = Math.cos(aTheta);
    const as = Math.sin(aTheta);
    const wc = Math.cos(wTheta);
    const ws = Math.sin(wTheta);

    const accMag = ch[CHANNEL.accMag];
    const accVert = ch[CHANNEL.accVert];
    const accHoriz = ch[CHANNEL.accHoriz];
    const accH1 = ch[CHANNEL.accH1];
    const accH2 = ch[CHANNEL.accH2];
    const jerkMag = ch[CHANNEL.jerkMag];
    const tilt = ch[CHANNEL.tilt];
    const gyroMag = ch[CHANNEL.gyroMag];
    const gyroVert = ch[CHANNEL.gyroVert];
    const gyroHoriz = ch[CHANNEL.gyroHoriz];
    const gyroH1 = ch[CHANNEL.gyroH1];
    const gyroH2 = ch[CHANNEL.gyroH2];
    for (let i = 0; i < n; i++) {
      const x = ax[i];
      const y = ay[i];
      const z = az[i];
      const mag = Math.sqrt(x * x + y * y + z * z);
      const vert = x * g[0] + y * g[1] + z * g[2];
      accMag[i] = mag;
      accVert[i] = vert;
      accHoriz[i] = Math.sqrt(Math.max(0, mag * mag - vert * vert));
      const pu = (x - mx) * u[0] + (y - my) * u[1] + (z - mz) * u[2];
      const pv = (x - mx) * v[0] + (y - my) * v[1] + (z - mz) * v[2];
      accH1[i] = ac * pu + as * pv;
      accH2[i] = -as * pu + ac * pv;
      tilt[i] = mag > 1e-9 ? Math.acos(Math.min(1, Math.max(-1, vert / mag))) : 0;
      if (i > 0) jerkMag[i] = Math.hypot(x - ax[i - 1], y - ay[i - 1], z - az[i - 1]) * this.rateHz;

      const p = wx[i];
      const q = wy[i];
      const r = wz[i];
      const wmag = Math.sqrt(p * p + q * q + r * r);
      const wvert = p * g[0] + q * g[1] + r * g[2];
      gyroMag[i] = wmag;
      gyroVert[i] = wvert;
      gyroHoriz[i] = Math.sqrt(Math.max(0, wmag * wmag - wvert * wvert));
      const qu = p * u[0] + q * u[1] + r * u[2];
      const qv = p * v[0] + q * v[1] + r * v[2];
      gyroH1[i] = wc * qu + ws * qv;
      gyroH2[i] = -ws * qu + wc * qv;
    }
    jerkMag[0] = n > 1 ? jerkMag[1] : 0;
    this.integrate(accVert, ch[CHANNEL.velVert]);
    this.integrate(ch[CHANNEL.velVert], ch[CHANNEL.posVert]);
  }

  /** Running integral of x minus its mean, with the least-squares line removed (drift of integration). */
  private integrate(x: Float64Array, out: Float64Array): void {
    const n = this.length;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[i];
    mean /= n;
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc += (x[i] - mean) / this.rateHz;
      out[i] = acc;
    }
    detrend(out, n);
  }

  /** Any orthonormal u, v spanning the plane orthogonal to g (the H1/H2 analysis makes the choice moot). */
  private horizontalBasis(): void {
    const g = this.g;
    const u = this.u;
    const v = this.v;
    // cross g with the sensor axis least aligned with it, for a well-conditioned u
    const absX = Math.abs(g[0]);
    const absY = Math.abs(g[1]);
    const absZ = Math.abs(g[2]);
    let ex = 0;
    let ey = 0;
    let ez = 0;
    if (absX <= absY && absX <= absZ) ex = 1;
    else if (absY <= absZ) ey = 1;
    else ez = 1;
    u[0] = g[1] * ez - g[2] * ey;
    u[1] = g[2] * ex - g[0] * ez;
    u[2] = g[0] * ey - g[1] * ex;
    const un = Math.hypot(u[0], u[1], u[2]);
    u[0] /= un;
    u[1] /= un;
    u[2] /= un;
    v[0] = g[1] * u[2] - g[2] * u[1];
    v[1] = g[2] * u[0] - g[0] * u[2];
    v[2] = g[0] * u[1] - g[1] * u[0];
  }

  private sensorFeatures(out: Float64Array, start: number): number {
    const n = this.length;
    let k = start;
    for (let c = 0; c < 6; c++) {
      const x = this.raw[c];
      let sum = 0;
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < n; i++) {
        sum += x[i];
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
      }
      const mean = sum / n;
      let ss = 0;
      for (let i = 0; i < n; i++) ss += (x[i] - mean) * (x[i] - mean);
      out[k++] = mean;
      out[k++] = Math.sqrt(ss / n);
      out[k++] = min;
      out[k++] = max;
    }
    for (const [i, j] of SENSOR_CORR_PAIRS) out[k++] = pearson(this.raw[i], this.raw[j], n);
    out[k++] = this.g[0];
    out[k++] = this.g[1];
    out[k++] = this.g[2];
    return k;
  }
}
