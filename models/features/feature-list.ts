/**
 * THE list of window features: names, meaning and order. The extractor (extractor.ts) computes exactly these,
 * in this order; a model file records FEATURE_VERSION and FEATURE_COUNT and is refused when they differ.
 * Bump FEATURE_VERSION whenever a name, its meaning, its computation or the order changes.
 *
 * Frames. The clip does not sit the same way on the bar for every lifter, so features in the sensor's own
 * axes do not carry over between lifters. Most features are therefore computed in a frame aligned with
 * gravity: g = the window's mean acceleration (up, as the accelerometer measures it), "vertical" = along g,
 * "horizontal" = the plane orthogonal to g, H1/H2 = the principal directions of motion within that plane.
 * These do not change when the sensor is rotated (tested). The sensor-frame group is kept for comparison
 * (scripts/cross-validate.ts shows what it costs on new lifters) and is not used by the trainer by default.
 */
export const FEATURE_VERSION = 1;

/** Derived signals of one window, all orientation-invariant. */
export const FEATURE_CHANNELS = [
  { name: 'accMag', signed: true, doc: '|a|, acceleration magnitude (m/s^2)' },
  { name: 'accVert', signed: true, doc: 'a . g_hat, acceleration along gravity (m/s^2)' },
  { name: 'accHoriz', signed: true, doc: '|a - (a . g_hat) g_hat|, horizontal acceleration magnitude (m/s^2)' },
  { name: 'accH1', signed: false, doc: 'acceleration along the principal horizontal direction of motion (sign-free)' },
  { name: 'accH2', signed: false, doc: 'acceleration along the second horizontal direction (sign-free)' },
  { name: 'jerkMag', signed: true, doc: '|da/dt|, jerk magnitude (m/s^3)' },
  { name: 'tilt', signed: true, doc: 'angle between a(t) and the window mean g (rad): how the clip swings' },
  { name: 'gyroMag', signed: true, doc: '|w|, angular speed (rad/s)' },
  { name: 'gyroVert', signed: true, doc: 'w . g_hat, rotation about the gravity axis (rad/s)' },
  { name: 'gyroHoriz', signed: true, doc: '|w - (w . g_hat) g_hat|, rotation about horizontal axes (rad/s)' },
  { name: 'gyroH1', signed: false, doc: 'rotation about the principal horizontal rotation axis (sign-free)' },
  { name: 'gyroH2', signed: false, doc: 'rotation about the second horizontal axis (sign-free)' },
  { name: 'velVert', signed: true, doc: 'vertical velocity: integral of a . g_hat - |g|, detrended (m/s)' },
  { name: 'posVert', signed: true, doc: 'vertical displacement: integral of velVert, detrended (m)' },
] as const;

/**
 * Statistics computed on each channel. `on`: 'all' channels, only 'signed' ones (where the sign of the value
 * means something), or only 'unsigned' ones (whose sign depends on an arbitrary axis direction).
 */
export const CHANNEL_STATS = [
  // statistical
  { name: 'std', on: 'all', doc: 'standard deviation' },
  { name: 'range', on: 'all', doc: 'max - min' },
  { name: 'iqr', on: 'all', doc: '75th - 25th percentile' },
  { name: 'mad', on: 'all', doc: 'median absolute deviation from the median' },
  { name: 'kurtosis', on: 'all', doc: 'excess kurtosis (0 when constant)' },
  { name: 'absSkew', on: 'all', doc: '|skewness|' },
  { name: 'meanAbsDiff', on: 'all', doc: 'mean |x[t] - x[t-1]| per second' },
  { name: 'crossRate', on: 'all', doc: 'crossings of the mean per second' },
  // frequency domain (Hann window, DC removed, fft.js)
  { name: 'domFreq', on: 'all', doc: 'frequency of the strongest non-DC bin (Hz)' },
  { name: 'domShare', on: 'all', doc: 'share of the strongest bin in total spectral power' },
  { name: 'centroid', on: 'all', doc: 'spectral centroid (Hz)' },
  { name: 'spread', on: 'all', doc: 'spectral spread around the centroid (Hz)' },
  { name: 'entropy', on: 'all', doc: 'normalised spectral entropy, 0..1' },
  { name: 'rolloff', on: 'all', doc: 'frequency below which 85% of the power lies (Hz)' },
  { name: 'band0', on: 'all', doc: 'power share 0-0.75 Hz' },
  { name: 'band1', on: 'all', doc: 'power share 0.75-1.5 Hz' },
  { name: 'band2', on: 'all', doc: 'power share 1.5-3 Hz' },
  { name: 'band3', on: 'all', doc: 'power share 3-6 Hz' },
  { name: 'band4', on: 'all', doc: 'power share 6-12 Hz' },
  { name: 'band5', on: 'all', doc: 'power share above 12 Hz' },
  // time series: autocorrelation and periodicity
  { name: 'acPeak', on: 'all', doc: 'autocorrelation at its first peak after the first zero crossing (periodicity)' },
  { name: 'acPeakLag', on: 'all', doc: 'lag of that peak (s), the window length when there is none' },
  { name: 'acZeroLag', on: 'all', doc: 'lag of the first zero crossing of the autocorrelation (s)' },
  { name: 'ac025', on: 'all', doc: 'autocorrelation at 0.25 s' },
  { name: 'ac050', on: 'all', doc: 'autocorrelation at 0.5 s' },
  { name: 'ac100', on: 'all', doc: 'autocorrelation at 1 s' },
  // level statistics, meaningful only where the sign is
  { name: 'mean', on: 'signed', doc: 'mean' },
  { name: 'min', on: 'signed', doc: 'minimum' },
  { name: 'max', on: 'signed', doc: 'maximum' },
  { name: 'median', on: 'signed', doc: 'median' },
  { name: 'p10', on: 'signed', doc: '10th percentile' },
  { name: 'p90', on: 'signed', doc: '90th percentile' },
  { name: 'skew', on: 'signed', doc: 'skewness' },
  { name: 'upperCrossRate', on: 'signed', doc: 'upward crossings of mean + 0.5 std per second' },
  { name: 'maxAbs', on: 'unsigned', doc: 'max |x|' },
  { name: 'meanAbs', on: 'unsigned', doc: 'mean |x|' },
] as const;

/** Features of the window as a whole, computed from several channels at once; all orientation-invariant. */
export const CROSS_FEATURES = [
  // cross-axis correlation (Pearson); |r| where a channel's sign is arbitrary
  { name: 'corr.accVert.accHoriz', doc: 'correlation of vertical and horizontal acceleration' },
  { name: 'corr.accVert.tilt', doc: 'correlation of vertical acceleration and tilt' },
  { name: 'corr.accVert.gyroMag', doc: 'correlation of vertical acceleration and angular speed' },
  { name: 'corr.accVert.gyroHoriz', doc: 'correlation of vertical acceleration and horizontal rotation' },
  { name: 'corr.accVert.gyroVert', doc: 'correlation of vertical acceleration and rotation about gravity' },
  { name: 'corr.accMag.gyroMag', doc: 'correlation of acceleration magnitude and angular speed' },
  { name: 'corr.accHoriz.gyroHoriz', doc: 'correlation of horizontal acceleration and horizontal rotation' },
  { name: 'corr.tilt.gyroHoriz', doc: 'correlation of tilt and horizontal rotation' },
  { name: 'corr.tilt.gyroMag', doc: 'correlation of tilt and angular speed' },
  { name: 'corr.gyroVert.gyroHoriz', doc: 'correlation of rotation about and across gravity' },
  { name: 'corr.jerkMag.gyroMag', doc: 'correlation of jerk and angular speed' },
  { name: 'absCorr.accH1.gyroH1', doc: '|correlation| of principal horizontal acceleration and rotation' },
  { name: 'absCorr.accVert.accH1', doc: '|correlation| of vertical and principal horizontal acceleration' },
  { name: 'absCorr.accVert.gyroH1', doc: '|correlation| of vertical acceleration and principal rotation' },
  { name: 'absCorr.accH1.gyroH2', doc: '|correlation| of principal horizontal acceleration and second rotation' },
  // cross-correlation within +-0.64 s: how strongly and with what delay two signals follow each other
  { name: 'xcorr.accVert.tilt', doc: 'max |cross-correlation| of vertical acceleration and tilt' },
  { name: 'xcorrLag.accVert.tilt', doc: '|lag| of that maximum (s)' },
  { name: 'xcorr.accVert.gyroHoriz', doc: 'max |cross-correlation| of vertical acceleration and horizontal rotation' },
  { name: 'xcorrLag.accVert.gyroHoriz', doc: '|lag| of that maximum (s)' },
  { name: 'xcorr.accVert.accH1', doc: 'max |cross-correlation| of vertical and principal horizontal acceleration' },
  { name: 'xcorrLag.accVert.accH1', doc: '|lag| of that maximum (s)' },
  // principal components of the linear acceleration (covariance) and of rotation (second moment)
  { name: 'accPca.s1', doc: 'std of acceleration along its first principal axis' },
  { name: 'accPca.s2', doc: 'std along the second principal axis' },
  { name: 'accPca.s3', doc: 'std along the third principal axis' },
  { name: 'accPca.ratio21', doc: 's2 / s1: how planar vs linear the motion is' },
  { name: 'accPca.ratio31', doc: 's3 / s1' },
  { name: 'accPca.axis1Vert', doc: '|cos| of the angle between the first acceleration axis and gravity' },
  { name: 'accPca.axis3Vert', doc: '|cos| of the angle between the third acceleration axis and gravity' },
  { name: 'gyroPca.s1', doc: 'rms rotation about the principal rotation axis (rad/s)' },
  { name: 'gyroPca.s2', doc: 'rms rotation about the second rotation axis' },
  { name: 'gyroPca.s3', doc: 'rms rotation about the third rotation axis' },
  { name: 'gyroPca.ratio21', doc: 's2 / s1 of rotation' },
  { name: 'gyroPca.ratio31', doc: 's3 / s1 of rotation' },
  { name: 'gyroPca.axis1Vert', doc: '|cos| of the angle between the principal rotation axis and gravity' },
  { name: 'gyroPca.axis3Vert', doc: '|cos| of the angle between the third rotation axis and gravity' },
  { name: 'pca.accAxis1.gyroAxis1', doc: '|cos| between the first acceleration axis and the rotation axis' },
  // energy split and orientation change
  { name: 'vertShare', doc: 'share of acceleration variance along gravity' },
  { name: 'gyroVertShare', doc: 'share of rotation energy about the gravity axis' },
  { name: 'gravityMag', doc: '|mean acceleration| (m/s^2)' },
  { name: 'turnHalves', doc: 'angle between the mean acceleration of the first and second half (rad)' },
  { name: 'turnQuarters', doc: 'angle between the mean acceleration of the first and last quarter (rad)' },
  { name: 'netRotation', doc: '|integral of w dt| over the window (rad)' },
] as const;

const SENSOR_AXES = ['ax', 'ay', 'az', 'gx', 'gy', 'gz'] as const;
const SENSOR_AXIS_STATS = ['mean', 'std', 'min', 'max'] as const;
const SENSOR_PAIRS = [
  [0, 1],
  [0, 2],
  [1, 2],
  [3, 4],
  [3, 5],
  [4, 5],
] as const;

/** Sensor-frame features: depend on how the clip sits on the bar. */
export const SENSOR_FEATURES: readonly { name: string; doc: string }[] = [
  ...SENSOR_AXES.flatMap((axis) => SENSOR_AXIS_STATS.map((s) => ({ name: `sensor.${axis}.${s}`, doc: `${s} of the raw ${axis} axis` }))),
  ...SENSOR_PAIRS.map(([i, j]) => ({
    name: `sensor.corr.${SENSOR_AXES[i]}.${SENSOR_AXES[j]}`,
    doc: `correlation of raw ${SENSOR_AXES[i]} and ${SENSOR_AXES[j]}`,
  })),
  ...['x', 'y', 'z'].map((a) => ({ name: `sensor.gravityDir.${a}`, doc: `${a} component of the unit mean acceleration` })),
];
export const SENSOR_AXIS_STAT_NAMES = SENSOR_AXIS_STATS;
export const SENSOR_CORR_PAIRS = SENSOR_PAIRS;

export type FeatureGroup = 'channel' | 'cross' | 'sensor';

export interface FeatureInfo {
  index: number;
  name: string;
  doc: string;
  group: FeatureGroup;
  /** Unchanged when the sensor is rotated. */
  invariant: boolean;
}

export type StatName = (typeof CHANNEL_STATS)[number]['name'];
export type CrossName = (typeof CROSS_FEATURES)[number]['name'];

/** Index of each statistic in a channel's stats row, and of each cross feature in the cross row. */
export const STAT = Object.fromEntries(CHANNEL_STATS.map((s, i) => [s.name, i])) as Record<StatName, number>;
export const CROSS = Object.fromEntries(CROSS_FEATURES.map((s, i) => [s.name, i])) as Record<CrossName, number>;
export const CHANNEL = Object.fromEntries(FEATURE_CHANNELS.map((c, i) => [c.name, i])) as Record<
  (typeof FEATURE_CHANNELS)[number]['name'],
  number
>;

/** Where each channel feature comes from: [channel index, stat index], in output order. */
export const CHANNEL_LAYOUT: readonly (readonly [number, number])[] = FEATURE_CHANNELS.flatMap((channel, c) =>
  CHANNEL_STATS.flatMap((stat, s) =>
    stat.on === 'all' || (stat.on === 'signed') === channel.signed ? [[c, s] as const] : [],
  ),
);

export const FEATURES: readonly FeatureInfo[] = [
  ...CHANNEL_LAYOUT.map(([c, s]) => ({
    name: `${FEATURE_CHANNELS[c].name}.${CHANNEL_STATS[s].name}`,
    doc: `${CHANNEL_STATS[s].doc} of ${FEATURE_CHANNELS[c].doc}`,
    group: 'channel' as const,
    invariant: true,
  })),
  ...CROSS_FEATURES.map((f) => ({ ...f, group: 'cross' as const, invariant: true })),
  ...SENSOR_FEATURES.map((f) => ({ ...f, group: 'sensor' as const, invariant: false })),
].map((f, index) => ({ index, ...f }));

export const FEATURE_NAMES: readonly string[] = FEATURES.map((f) => f.name);
export const FEATURE_COUNT = FEATURES.length;
/** Indices of the orientation-invariant features: the trainer's default pool. */
export const INVARIANT_FEATURES: readonly number[] = FEATURES.filter((f) => f.invariant).map((f) => f.index);
