import type { Reading, Transport } from '../reading.js';

/** Why a sample (or a whole payload) was rejected. Counted per device and reason. */
export type RejectReason =
  | 'parse'           // not JSON / not a CSV line / truncated binary frame
  | 'too_large'       // payload over the size limit
  | 'shape'           // a field missing or of the wrong type
  | 'device_id'       // deviceId not matching the pattern
  | 'device_mismatch' // payload names another device than the transport's identity (topic, port, peripheral)
  | 'not_finite'      // NaN, Infinity
  | 'accel_range'     // |accel| component over 32 g
  | 'gyro_range'      // |gyro| component over 40 rad/s
  | 'mag_range'       // |mag| component over a generous bound (raw-count magnetometers pass)
  | 'temp_range'      // temperature outside what a sensor can report
  | 'seq'             // seq not a uint32
  | 'timestamp'       // missing or implausible time
  | 'version';        // unknown binary frame version

/** What the transport knows about a payload when it arrives. */
export interface DecodeContext {
  transport: Transport;
  /** Hub clock, ms since the epoch, when the payload arrived. */
  receivedAt: number;
  /**
   * The identity the transport vouches for: the MQTT topic's deviceId, the serial port's device
   * (hello name or serial-<id>), the BLE peripheral's deviceId. When set, a payload naming a different
   * device is rejected ('device_mismatch'); CSV lines and BLE frames take this as their deviceId.
   * HTTP leaves it unset and trusts the payload's ids.
   */
  deviceId?: string;
}

export interface DeviceHello {
  deviceId: string;
  fw?: string;
  hz?: number;
  /** Units the device sends in, converted by the codec from then on. */
  units?: { accel?: 'm/s2' | 'g'; gyro?: 'rad/s' | 'deg/s' };
}

export interface DecodeResult {
  /** Valid samples, mapped to the hub clock, in order. */
  readings: Reading[];
  /** Samples (or whole payloads, counted as one) rejected as invalid. */
  rejected: number;
  /** Samples dropped as duplicates (repeated seq, repeated device time, stale repeated values). */
  duplicates: number;
  /**
   * Samples the device's counter says were lost before this payload, less the late samples in it that
   * earlier payloads had counted as lost (so negative when it mostly fills earlier gaps).
   */
  gaps: number;
  /** Set when the payload was a hello line instead of readings. */
  hello?: DeviceHello;
  /** The first rejection's reason and detail, for the caller's error answer (HTTP 400). */
  firstError?: { reason: RejectReason; message: string; index?: number };
}
