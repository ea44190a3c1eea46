import type { Logger } from 'pino';
import type { Clock } from '../../daemon/clock.js';
import type { Codec } from '../codec/codec.js';
import type { ReadingSink } from '../driver.js';
import { IngestPump } from './ingest-pump.js';
import { LogLimiter } from './log-limiter.js';
import type { PeripheralLink } from './peripheral-link.js';

const LOG_INTERVAL_MS = 60_000;

/**
 * Notification to readings: the shared codec decodes the frame under the identity the link vouches for, the
 * pump stores the readings in order. Whatever a device sends ends up counted, never thrown.
 */
export class FrameIngest {
  readonly pump: IngestPump;
  private readonly limiter: LogLimiter;

  constructor(
    private readonly codec: Codec,
    sink: ReadingSink,
    private readonly log: Logger,
    private readonly clock: Clock,
    maxPendingReadings: number,
  ) {
    this.pump = new IngestPump(sink, log, clock, maxPendingReadings);
    this.limiter = new LogLimiter(clock, LOG_INTERVAL_MS);
  }

  handle(link: PeripheralLink, frame: Uint8Array): void {
    const counters = link.counters;
    counters.frames += 1;
    let result;
    try {
      result = this.codec.decodeBle(frame, { transport: 'ble', receivedAt: this.clock.now(), deviceId: link.deviceId });
    } catch (err) {
      // The codec promises not to throw; a bug there must still not take the transport down.
      counters.rejected += 1;
      if (this.limiter.allow(link.key)) this.log.error({ err, deviceId: link.deviceId }, 'BLE frame decoder threw');
      return;
    }
    counters.rejected += result.rejected;
    counters.duplicates += result.duplicates;
    counters.gaps += result.gaps;
    if (result.readings.length === 0) return;
    if (this.pump.push(result.readings)) counters.readings += result.readings.length;
    else counters.dropped += result.readings.length;
  }
}
