import type { Logger } from 'pino';
import type { DeviceInfo } from '../drivers/driver.js';
import type { Reading, Transport } from '../drivers/reading.js';
import type { Prediction, Session } from './sessions/types.js';
import type { SyncEvent } from '../sync/sync-types.js';

/** What flows through the hub once readings are stored. */
export interface HubEvents {
  /** Readings of one ingest call, already durable. */
  readings: { transport: Transport; readings: Reading[] };
  device: { deviceId: string; transport: Transport; info: DeviceInfo };
  /** A session started, changed (label, notes, live reps or predicted label) or ended, or was deleted. */
  session: { type: 'started' | 'updated' | 'ended' | 'deleted'; session: Session };
  /** A window of a device was classified. */
  prediction: Prediction;
  /** A device's live rep count moved (within its active session when it has one). */
  reps: { deviceId: string; sessionId?: string; reps: number; ts: number };
  /** Cloud sync changed state, sent a chunk of a session's readings, or confirmed a session in Postgres. */
  sync: SyncEvent;
}

type Listener<K extends keyof HubEvents> = (event: HubEvents[K]) => void;

interface Registration {
  owner: string;
  event: keyof HubEvents;
  listener: (event: never) => void;
}

/**
 * A typed event bus in the manner of zigbee2mqtt's: each listener has an owner and is removed with
 * `removeListeners(owner)`; a listener that throws is logged and cannot break the bus or the emitter.
 */
export class EventBus {
  private registrations: Registration[] = [];

  constructor(private readonly log: Logger) {}

  on<K extends keyof HubEvents>(event: K, owner: string, listener: Listener<K>): void {
    this.registrations.push({ owner, event, listener: listener as (event: never) => void });
  }

  emit<K extends keyof HubEvents>(event: K, payload: HubEvents[K]): void {
    for (const registration of this.registrations) {
      if (registration.event !== event) continue;
      try {
        (registration.listener as Listener<K>)(payload);
      } catch (err) {
        this.log.error({ err, event, owner: registration.owner }, 'event listener failed');
      }
    }
  }

  removeListeners(owner: string): void {
    this.registrations = this.registrations.filter((r) => r.owner !== owner);
  }
}
