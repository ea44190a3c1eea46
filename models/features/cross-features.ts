import { CHANNEL, CROSS } from './feature-list.js';
import { maxCrossCorrelation, pearson, symmetricEigen3 } from './math.js';
import { absDot, angleBetweenMeans, secondMoment, varianceAlong } from './vector-math.js';

const XCORR_MAX_LAG_S = 0.64;

/**
 * The CROSS_FEATURES of feature-list.ts: correlations between derived channels, principal axes of motion
 * and rotation, energy split and orientation change. Owns its scratch buffers.
 */
export class CrossFeatureComputer {
  private readonly length: number;
  private readonly rateHz: number;
  private readonly matrix = new Float64Array(9);
  private readonly eigenValues = new Float64Array(3);
  private readonly accAxes = new Float64Array(9);
  private readonly gyroAxes = new Float64Array(9);
  private readonly work = new Float64Array(9);
  private readonly pair = new Float64Array(2);

  constructor(length: number, rateHz: number) {
    this.length = length;
    this.rateHz = rateHz;
  }

  compute(raw: readonly Float64Array[], ch: readonly Float64Array[], g: Float64Array, gravityMag: number, cr: Float64Array): void {
    const n = this.length;
    cr[CROSS.gravityMag] = gravityMag;
    const C = CHANNEL;
    const corr = (a: number, b: number) => pearson(ch[a], ch[b], n);
    cr[CROSS['corr.accVert.accHoriz']] = corr(C.accVert, C.accHoriz);
    cr[CROSS['corr.accVert.tilt']] = corr(C.accVert, C.tilt);
    cr[CROSS['corr.accVert.gyroMag']] = corr(C.accVert, C.gyroMag);
    cr[CROSS['corr.accVert.gyroHoriz']] = corr(C.accVert, C.gyroHoriz);
    cr[CROSS['corr.accVert.gyroVert']] = corr(C.accVert, C.gyroVert);
    cr[CROSS['corr.accMag.gyroMag']] = corr(C.accMag, C.gyroMag);
    cr[CROSS['corr.accHoriz.gyroHoriz']] = corr(C.accHoriz, C.gyroHoriz);
    cr[CROSS['corr.tilt.gyroHoriz']] = corr(C.tilt, C.gyroHoriz);
    cr[CROSS['corr.tilt.gyroMag']] = corr(C.tilt, C.gyroMag);
    cr[CROSS['corr.gyroVert.gyroHoriz']] = corr(C.gyroVert, C.gyroHoriz);
    cr[CROSS['corr.jerkMag.gyroMag']] = corr(C.jerkMag, C.gyroMag);
    cr[CROSS['absCorr.accH1.gyroH1']] = Math.abs(corr(C.accH1, C.gyroH1));
    cr[CROSS['absCorr.accVert.accH1']] = Math.abs(corr(C.accVert, C.accH1));
    cr[CROSS['absCorr.accVert.gyroH1']] = Math.abs(corr(C.accVert, C.gyroH1));
    cr[CROSS['absCorr.accH1.gyroH2']] = Math.abs(corr(C.accH1, C.gyroH2));

    const maxLag = Math.min(n - 1, Math.round(XCORR_MAX_LAG_S * this.rateHz));
    const xcorr = (a: number, b: number, value: number, lag: number) => {
      maxCrossCorrelation(ch[a], ch[b], n, maxLag, this.pair);
      cr[value] = this.pair[0];
      cr[lag] = this.pair[1] / this.rateHz;
    };
    xcorr(C.accVert, C.tilt, CROSS['xcorr.accVert.tilt'], CROSS['xcorrLag.accVert.tilt']);
    xcorr(C.accVert, C.gyroHoriz, CROSS['xcorr.accVert.gyroHoriz'], CROSS['xcorrLag.accVert.gyroHoriz']);
    xcorr(C.accVert, C.accH1, CROSS['xcorr.accVert.accH1'], CROSS['xcorrLag.accVert.accH1']);

    this.pcaFeatures(raw, g, cr);
  }

  private pcaFeatures(raw: readonly Float64Array[], g: Float64Array, cr: Float64Array): void {
    const n = this.length;
    const [ax, ay, az, wx, wy, wz] = raw;
    const m = this.matrix;
    const values = this.eigenValues;

    secondMoment(ax, ay, az, n, true, m);
    symmetricEigen3(m, values, this.accAxes, this.work);
    const accVariance = Math.max(0, values[0]) + Math.max(0, values[1]) + Math.max(0, values[2]);
    const s1 = Math.sqrt(Math.max(0, values[0]));
    cr[CROSS['accPca.s1']] = s1;
    cr[CROSS['accPca.s2']] = Math.sqrt(Math.max(0, values[1]));
    cr[CROSS['accPca.s3']] = Math.sqrt(Math.max(0, values[2]));
    cr[CROSS['accPca.ratio21']] = s1 > 1e-9 ? cr[CROSS['accPca.s2']] / s1 : 0;
    cr[CROSS['accPca.ratio31']] = s1 > 1e-9 ? cr[CROSS['accPca.s3']] / s1 : 0;
    cr[CROSS['accPca.axis1Vert']] = absDot(this.accAxes, 0, g);
    cr[CROSS['accPca.axis3Vert']] = absDot(this.accAxes, 6, g);
    cr[CROSS.vertShare] = accVariance > 1e-12 ? varianceAlong(ax, ay, az, n, g) / accVariance : 0;

    secondMoment(wx, wy, wz, n, false, m);
    symmetricEigen3(m, values, this.gyroAxes, this.work);
    const r1 = Math.sqrt(Math.max(0, values[0]));
    const gyroEnergy = Math.max(0, values[0]) + Math.max(0, values[1]) + Math.max(0, values[2]);
    cr[CROSS['gyroPca.s1']] = r1;
    cr[CROSS['gyroPca.s2']] = Math.sqrt(Math.max(0, values[1]));
    cr[CROSS['gyroPca.s3']] = Math.sqrt(Math.max(0, values[2]));
    cr[CROSS['gyroPca.ratio21']] = r1 > 1e-9 ? cr[CROSS['gyroPca.s2']] / r1 : 0;
    cr[CROSS['gyroPca.ratio31']] = r1 > 1e-9 ? cr[CROSS['gyroPca.s3']] / r1 : 0;
    cr[CROSS['gyroPca.axis1Vert']] = absDot(this.gyroAxes, 0, g);
    cr[CROSS['gyroPca.axis3Vert']] = absDot(this.gyroAxes, 6, g);
    cr[CROSS['pca.accAxis1.gyroAxis1']] = absDot(this.gyroAxes, 0, this.accAxes);
    let vertEnergy = 0;
    for (let i = 0; i < n; i++) {
      const p = wx[i] * g[0] + wy[i] * g[1] + wz[i] * g[2];
      vertEnergy += p * p;
    }
    cr[CROSS.gyroVertShare] = gyroEnergy > 1e-12 ? vertEnergy / n / gyroEnergy : 0;

    const half = Math.floor(n / 2);
    const quarter = Math.max(1, Math.floor(n / 4));
    cr[CROSS.turnHalves] = angleBetweenMeans(ax, ay, az, 0, half, half, n);
    cr[CROSS.turnQuarters] = angleBetweenMeans(ax, ay, az, 0, quarter, n - quarter, n);
    let ix = 0;
    let iy = 0;
    let iz = 0;
    for (let i = 0; i < n; i++) {
      ix += wx[i];
      iy += wy[i];
      iz += wz[i];
    }
    cr[CROSS.netRotation] = Math.hypot(ix, iy, iz) / this.rateHz;
  }
}
