/** The canonical reading inside the hub (SPEC section 3). */
export type Vec3 = [number, number, number];

export interface Reading {
  deviceId: string;
  /** Milliseconds since the Unix epoch, on the hub's clock. */
  ts: number;
  /** The device's sample counter, when it sends one. */
  seq?: number;
  /** m/s^2 */
  accel: Vec3;
  /** rad/s */
  gyro: Vec3;
  /** microtesla */
  mag?: Vec3;
  /** degrees Celsius */
  temp?: number;
}

export type Transport = 'mqtt' | 'serial' | 'ble' | 'http';

export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

export function isDeviceId(value: unknown): value is string {
  return typeof value === 'string' && DEVICE_ID_PATTERN.test(value);
}
