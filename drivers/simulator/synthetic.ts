/**
 * A deterministic, seeded generator of plausible IMU motion for one clip-on sensor: gravity, the periodic
 * motion of an exercise at a lifter's pace, and sensor noise, in the hub's units (m/s^2, rad/s) and in the
 * axes of the real recordings (../shared/data/barbell-imu: the bar's long axis is x, gravity mostly on -y).
 * The same seed gives the same samples, so tests and benches can rely on it.
 */
export const SYNTHETIC_EXERCISES = ['squat', 'bicep_curl', 'rest'] as const;
export type SyntheticExercise = (typeof SYNTHETIC_EXERCISES)[number];

export function isSyntheticExercise(value: string): value is SyntheticExercise {
  return (SYNTHETIC_EXERCISES as readonly string[]).includes(value);
}

const GRAVITY_MS2 = 9.81;
const ACCEL_NOISE_MS2 = 0.03;
const GYRO_NOISE_RAD_S = 0.005;
/** A MEMS gyroscope reads a constant offset; the real boards' is about this (rad/s). */
const GYRO_BIAS_RAD_S = [0.1, -0.1, -0.05];
/** Each rep's period varies by up to this fraction around the lifter's pace, as a person's does. */
const REP_PERIOD_JITTER = 0.12;

interface ExerciseShape {
  /** Seconds per rep at the average lifter's pace. */
  periodS: number;
  /** Per-device pace spread: the device's period is periodS x (1 +- this). */
  paceSpread: number;
}

const SHAPES: Record<SyntheticExercise, ExerciseShape> = {
  // Down and up with the bar on the back: ~0.6 m of travel, the bar pitching a little.
  squat: { periodS: 3, paceSpread: 0.15 },
  // The bar turns ~125 degrees about its long axis on a ~0.33 m forearm, and back.
  bicep_curl: { periodS: 2.4, paceSpread: 0.15 },
  rest: { periodS: 4, paceSpread: 0.3 },
};

const SQUAT_TRAVEL_M = 0.6;
/** How far the bar pitches at the bottom, as the torso leans forward. */
const SQUAT_PITCH_RAD = 0.2;
const SQUAT_DESCENT_SHARE = 0.45;
const SQUAT_ASCENT_SHARE = 0.3;
const CURL_SWEEP_RAD = 2.2;
const CURL_FOREARM_M = 0.33;
const REST_SWAY_RAD = 0.003;

export interface SyntheticMotionOptions {
  exercise: SyntheticExercise;
  hz: number;
  /** Any integer; devices with different seeds move at slightly different paces and tilts. */
  seed: number;
}

/** mulberry32: tiny, fast and good enough for motion noise; Math.random cannot be seeded. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One sensor's motion, sample by sample at a fixed rate. */
export class SyntheticMotion {
  readonly exercise: SyntheticExercise;
  readonly hz: number;
  private readonly random: () => number;
  private readonly basePeriodS: number;
  /** A fixed tilt of the clip on the bar, different per device. */
  private readonly tiltRad: number;
  private repPeriodS: number;
  /** Phase within the current rep, 0..1. */
  private phase = 0;
  private completedReps = 0;
  private counter = 0;
  private spareGaussian: number | undefined;

  constructor(options: SyntheticMotionOptions) {
    if (!(options.hz > 0) || !Number.isFinite(options.hz)) throw new RangeError(`hz must be a positive number, got ${options.hz}`);
    this.exercise = options.exercise;
    this.hz = options.hz;
    this.random = seededRandom(options.seed * 2654435761 + 1);
    const shape = SHAPES[options.exercise];
    this.basePeriodS = shape.periodS * (1 + shape.paceSpread * (2 * this.random() - 1));
    this.tiltRad = 0.15 * (2 * this.random() - 1);
    this.repPeriodS = this.nextRepPeriod();
  }

  /** Samples produced so far: the device's sample counter (format (b)'s seq). */
  get seq(): number {
    return this.counter;
  }

  /** Whole reps finished so far (always 0 for rest). */
  get reps(): number {
    return this.exercise === 'rest' ? 0 : this.completedReps;
  }

  /** The next sample, [ax, ay, az, gx, gy, gz]. */
  next(): number[] {
    const dtS = 1 / this.hz;
    const omega = (2 * Math.PI) / this.repPeriodS;
    const angle = 2 * Math.PI * this.phase;
    let sample: number[];
    switch (this.exercise) {
      case 'squat': sample = this.squat(); break;
      case 'bicep_curl': sample = this.curl(angle, omega); break;
      case 'rest': sample = this.rest(angle, omega); break;
    }
    for (let k = 0; k < 3; k++) sample[k] += ACCEL_NOISE_MS2 * this.gaussian();
    for (let k = 3; k < 6; k++) sample[k] += GYRO_BIAS_RAD_S[k - 3] + GYRO_NOISE_RAD_S * this.gaussian();
    this.counter++;
    this.phase += dtS / this.repPeriodS;
    if (this.phase >= 1) {
      this.phase -= 1;
      this.completedReps++;
      this.repPeriodS = this.nextRepPeriod();
    }
    return sample.map(round4);
  }

  /**
   * Down slowly, up faster, a breath at the top: depth d(t) eases from 0 to -D over the descent and back over
   * the ascent. The accelerometer feels gravity plus d''(t); the torso leans (the bar pitches) with depth.
   */
  private squat(): number[] {
    const period = this.repPeriodS;
    const descentS = SQUAT_DESCENT_SHARE * period;
    const ascentS = SQUAT_ASCENT_SHARE * period;
    const t = this.phase * period;
    const half = SQUAT_TRAVEL_M / 2;
    let depth = 0;
    let velocity = 0;
    let accel = 0;
    if (t < descentS) {
      const w = Math.PI / descentS;
      depth = -half * (1 - Math.cos(w * t));
      velocity = -half * w * Math.sin(w * t);
      accel = -half * w * w * Math.cos(w * t);
    } else if (t < descentS + ascentS) {
      const w = Math.PI / ascentS;
      const u = t - descentS;
      depth = -half * (1 + Math.cos(w * u));
      velocity = half * w * Math.sin(w * u);
      accel = half * w * w * Math.cos(w * u);
    }
    const lean = SQUAT_PITCH_RAD / SQUAT_TRAVEL_M;
    const pitch = this.tiltRad - lean * depth;
    const pitchRate = -lean * velocity;
    const f = GRAVITY_MS2 + accel;
    return [1.0 + 0.3 * depth, -f * Math.cos(pitch), -f * Math.sin(pitch), pitchRate, 0.05 * velocity, 0.03 * depth];
  }

  /** The bar turns by theta(t) = S/2 (1 - cos wt) about x on a forearm of radius r: gravity turns, plus r*theta'' and r*theta'^2. */
  private curl(angle: number, omega: number): number[] {
    const theta = this.tiltRad + (CURL_SWEEP_RAD / 2) * (1 - Math.cos(angle));
    const rate = (CURL_SWEEP_RAD / 2) * omega * Math.sin(angle);
    const angularAccel = (CURL_SWEEP_RAD / 2) * omega * omega * Math.cos(angle);
    const tangential = CURL_FOREARM_M * angularAccel;
    const centripetal = CURL_FOREARM_M * rate * rate;
    return [0.3 * Math.sin(angle), -GRAVITY_MS2 * Math.cos(theta) + centripetal, GRAVITY_MS2 * Math.sin(theta) + tangential, rate, 0.1 * Math.sin(angle), 0.05 * Math.cos(angle)];
  }

  /** The bar on the rack or held still: gravity, a slow sway, noise. */
  private rest(angle: number, omega: number): number[] {
    const sway = this.tiltRad + REST_SWAY_RAD * Math.sin(angle);
    return [0.8, -GRAVITY_MS2 * Math.cos(sway), -GRAVITY_MS2 * Math.sin(sway), REST_SWAY_RAD * omega * Math.cos(angle), 0, 0];
  }

  private nextRepPeriod(): number {
    return this.basePeriodS * (1 + REP_PERIOD_JITTER * (2 * this.random() - 1));
  }

  /** Box-Muller from the seeded generator. */
  private gaussian(): number {
    if (this.spareGaussian !== undefined) {
      const spare = this.spareGaussian;
      this.spareGaussian = undefined;
      return spare;
    }
    const u = Math.max(this.random(), 1e-12);
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareGaussian = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

/** Four decimals, as a sensor's JSON would carry them: shorter payloads, no false precision. */
function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
