import type { Logger } from 'pino';
import type { DriverState } from '../driver.js';
import type { Unsubscribe } from './ble-binding.js';

/** A peripheral advertising the gymhub service that is not paired: what the API offers for pairing. */
export interface DiscoveredBleDevice {
  /** The stack's peripheral id (Linux: address without colons). */
  id: string;
  address: string;
  localName?: string;
  rssi: number;
  /** Hub clock, ms since the epoch. */
  lastSeen: number;
}

export interface PairedBleDevice {
  /** The normalised key to persist and pass back as `paired` at the next start. */
  key: string;
  id?: string;
  address?: string;
  deviceId?: string;
  /** True when ble.autoPair paired it (reported once it connected and named itself). */
  auto: boolean;
}

export interface UnpairedBleDevice {
  /** Every persisted key that named the device: forget them all. */
  keys: string[];
  id?: string;
  address?: string;
  deviceId?: string;
}

export interface BleLinkEvent {
  deviceId: string;
  id: string;
  address: string;
  reason?: string;
}

export interface BleConnectFailure {
  id: string;
  address: string;
  error: string;
  retryInMs?: number;
}

export interface BleDriverEvents {
  state: { state: DriverState; detail?: string };
  discovered: DiscoveredBleDevice;
  paired: PairedBleDevice;
  unpaired: UnpairedBleDevice;
  connected: BleLinkEvent;
  disconnected: BleLinkEvent;
  connectFailed: BleConnectFailure;
}

/**
 * A typed event emitter whose `on` returns its unsubscribe function. Each listener is called on its own, so
 * one that throws is logged and cannot break the driver or the other listeners.
 */
export class BleEventEmitter {
  private readonly listeners = new Map<keyof BleDriverEvents, Set<(payload: never) => void>>();

  constructor(private readonly log: Logger) {}

  on<K extends keyof BleDriverEvents>(event: K, listener: (payload: BleDriverEvents[K]) => void): Unsubscribe {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  emit<K extends keyof BleDriverEvents>(event: K, payload: BleDriverEvents[K]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as (payload: BleDriverEvents[K]) => void)(payload);
      } catch (err) {
        this.log.error({ err, event }, 'BLE event listener failed');
      }
    }
  }
}
