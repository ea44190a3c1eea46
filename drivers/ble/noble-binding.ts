import type { Logger } from 'pino';
import type { AdapterState, BleBinding, BleCharacteristic, BlePeripheral, Unsubscribe } from './ble-binding.js';
import { normalizeUuid } from './gatt-profile.js';

/**
 * The part of @stoprocent/noble 2.x this project uses, typed structurally: the package is an optional
 * dependency (its types may be absent), and tests implement the same shape with a fake.
 */
export interface NobleEmitter {
  on(event: string, listener: (...args: any[]) => void): unknown;
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
  removeAllListeners?(event?: string): unknown;
}

export interface NobleCharacteristicLike extends NobleEmitter {
  readonly uuid: string;
  readAsync(): Promise<Uint8Array>;
  writeAsync(data: Buffer, withoutResponse: boolean): Promise<void>;
  subscribeAsync(): Promise<void>;
}

export interface NoblePeripheralLike extends NobleEmitter {
  readonly id: string;
  readonly address: string;
  readonly rssi: number;
  readonly advertisement: { localName?: string; serviceUuids?: string[] };
  connectAsync(): Promise<void>;
  cancelConnect(): void;
  disconnectAsync(): Promise<void>;
  discoverSomeServicesAndCharacteristicsAsync(
    serviceUuids: string[],
    characteristicUuids: string[],
  ): Promise<{ characteristics: NobleCharacteristicLike[] }>;
}

export interface NobleLike extends NobleEmitter {
  readonly state: string;
  startScanningAsync(serviceUuids?: string[], allowDuplicates?: boolean): Promise<void>;
  stopScanningAsync(): Promise<void>;
  stop(): void;
}

const ADAPTER_STATES: readonly AdapterState[] = ['unknown', 'resetting', 'unsupported', 'unauthorized', 'poweredOff', 'poweredOn'];

function toAdapterState(state: unknown): AdapterState {
  return ADAPTER_STATES.includes(state as AdapterState) ? (state as AdapterState) : 'unknown';
}

/**
 * Loads @stoprocent/noble and makes a fresh instance with the platform's default bindings. Throws when the
 * package or its native part cannot load; the driver turns that into status 'unavailable'.
 */
export async function loadNoble(): Promise<NobleLike> {
  // A variable specifier keeps tsc from requiring the optional package (or its types) to be installed.
  const specifier = '@stoprocent/noble';
  const mod = (await import(specifier)) as { withBindings?: unknown; default?: { withBindings?: unknown } };
  const withBindings = mod.withBindings ?? mod.default?.withBindings;
  if (typeof withBindings !== 'function') throw new Error('@stoprocent/noble has no withBindings(): unsupported version');
  // Not the package's default instance: one instance per driver start, so stop() then start() gets a clean one.
  return (withBindings as (type: string) => NobleLike)('default');
}

function listen(emitter: NobleEmitter, event: string, listener: (...args: any[]) => void): Unsubscribe {
  emitter.on(event, listener);
  return () => {
    emitter.removeListener(event, listener);
  };
}

function wrapCharacteristic(characteristic: NobleCharacteristicLike): BleCharacteristic {
  return {
    uuid: normalizeUuid(characteristic.uuid),
    read: async () => characteristic.readAsync(),
    write: async (data) => characteristic.writeAsync(Buffer.from(data), false),
    subscribe: async () => characteristic.subscribeAsync(),
    onNotification: (listener) =>
      // Noble also emits 'data' for read answers (isNotification false); only notifications are frames.
      listen(characteristic, 'data', (data: Uint8Array, isNotification?: boolean) => {
        if (isNotification !== false) listener(data);
      }),
  };
}

function wrapPeripheral(peripheral: NoblePeripheralLike): BlePeripheral {
  return {
    get id() {
      return peripheral.id;
    },
    get address() {
      return peripheral.address ?? '';
    },
    get rssi() {
      return peripheral.rssi;
    },
    get advertisement() {
      return {
        localName: peripheral.advertisement?.localName || undefined,
        serviceUuids: peripheral.advertisement?.serviceUuids ?? [],
      };
    },
    connect: async () => peripheral.connectAsync(),
    cancelConnect: () => peripheral.cancelConnect(),
    disconnect: async () => peripheral.disconnectAsync(),
    discoverCharacteristics: async (serviceUuid, characteristicUuids) => {
      const { characteristics } = await peripheral.discoverSomeServicesAndCharacteristicsAsync(
        [normalizeUuid(serviceUuid)],
        characteristicUuids.map(normalizeUuid),
      );
      return characteristics.map(wrapCharacteristic);
    },
    onDisconnect: (listener) => listen(peripheral, 'disconnect', (reason: unknown) => listener(String(reason ?? 'unknown'))),
  };
}

/** Adapts a noble instance (real or fake) to the BleBinding the driver uses. */
export function wrapNoble(noble: NobleLike, log: Logger): BleBinding {
  // Noble prints its warnings with console.warn; the daemon logs JSON, so they go through pino instead.
  noble.removeAllListeners?.('warning');
  noble.on('warning', (message: unknown) => log.debug({ message: String(message) }, 'noble warning'));
  // Reading `state` starts noble's bindings now, so close() always has something to stop.
  void noble.state;
  // Noble keeps one Peripheral object per device; so does this, so the driver can compare identities.
  const wrappers = new WeakMap<NoblePeripheralLike, BlePeripheral>();
  return {
    get state() {
      return toAdapterState(noble.state);
    },
    startScanning: async (serviceUuids) => noble.startScanningAsync(serviceUuids.map(normalizeUuid), false),
    stopScanning: async () => noble.stopScanningAsync(),
    onStateChange: (listener) => listen(noble, 'stateChange', (state: unknown) => listener(toAdapterState(state))),
    onDiscover: (listener) =>
      listen(noble, 'discover', (peripheral: NoblePeripheralLike) => {
        let wrapper = wrappers.get(peripheral);
        if (!wrapper) {
          wrapper = wrapPeripheral(peripheral);
          wrappers.set(peripheral, wrapper);
        }
        listener(wrapper);
      }),
    close: () => {
      try {
        noble.stop();
      } catch (err) {
        log.debug({ err }, 'noble.stop() failed');
      }
    },
  };
}
