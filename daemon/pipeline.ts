import type { ReadingSink } from '../drivers/driver.js';
import type { Reading, Transport } from '../drivers/reading.js';
import type { DeviceRegistry } from './device-registry.js';
import type { EventBus } from './event-bus.js';

export interface ReadingAppender {
  append(readings: Reading[]): Promise<void>;
}

/**
 * The sink every transport writes into: store first (the promise resolves once durable, which is when the
 * transport may acknowledge), then tell the rest of the hub (device registry, live recognition, stream).
 */
export class IngestPipeline implements ReadingSink {
  /** Readings stored, per transport, since start (for /metrics). */
  readonly stored: Record<Transport, number> = { mqtt: 0, serial: 0, ble: 0, http: 0 };

  constructor(
    private readonly store: ReadingAppender,
    private readonly registry: DeviceRegistry,
    private readonly bus: EventBus,
  ) {}

  async ingest(readings: Reading[], transport: Transport): Promise<void> {
    if (readings.length === 0) return;
    await this.store.append(readings);
    this.stored[transport] += readings.length;
    this.registry.recordReadings(transport, readings);
    this.bus.emit('readings', { transport, readings });
  }
}
