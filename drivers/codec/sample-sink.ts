import type { DeviceState } from './device-registry.js';
import type { SampleDraft, UnitScale } from './sample.js';
import type { DeviceHello, RejectReason } from './types.js';

/**
 * What the format readers (json-payload, csv-line, ble-frame) hand their samples to: the Codec, for the
 * payload being decoded. A reader writes each sample into the shared draft and calls sample(); problems
 * are reported per sample, so that valid neighbours survive.
 */
export interface SampleSink {
  readonly draft: SampleDraft;
  /**
   * The state of the device a sample (or a batch of count samples) names; named undefined means the
   * payload does not name one (the transport's device). Undefined when the id is refused: the sink has
   * then counted count rejections.
   */
  device(named: unknown, index: number, count: number): DeviceState | undefined;
  /** The device's declared units (formats a, b, c). */
  scale(state: DeviceState): UnitScale;
  /**
   * The draft holds a complete sample of this device in hub units. dropResentReads: a sample with the
   * previous one's six accel + gyro values is a re-send of the same sensor read (format c only).
   */
  sample(state: DeviceState, index: number, dropResentReads?: boolean): void;
  /** state undefined: the payload as a whole (the sink decides whom to count it against). */
  reject(state: DeviceState | undefined, reason: RejectReason, message: string, index?: number, count?: number): void;
  hello(hello: DeviceHello): void;
}
