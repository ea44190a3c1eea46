/**
 * The one input type of models/: a timestamped accelerometer + gyroscope sample. It is structurally a subset
 * of the hub's canonical Reading (drivers/reading.ts), so readings can be passed in as they are, but
 * models/ does not import drivers/: the cloud retraining job uses this code without the hub.
 */
export type Vec3 = [number, number, number];

export interface Sample {
  /** Milliseconds (epoch or device time: only differences matter). */
  ts: number;
  /** m/s^2 */
  accel: Vec3;
  /** rad/s */
  gyro: Vec3;
}

/** Column order of resampled signals everywhere in models/. */
export const CHANNELS = ['ax', 'ay', 'az', 'gx', 'gy', 'gz'] as const;
export const CHANNEL_COUNT = CHANNELS.length;
