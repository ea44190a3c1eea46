/**
 * The BLE provider the driver talks to, in the spirit of Signal K's bleapi.ts: a small surface, callbacks that
 * return their unsubscribe function, and nothing of noble's event-emitter API leaking into the driver. The
 * production implementation wraps @stoprocent/noble (noble-binding.ts); tests hand a fake noble to the same
 * wrapper.
 */
export type Unsubscribe = () => void;

/** Noble's adapter states. Only 'poweredOn' can scan and connect. */
export type AdapterState = 'unknown' | 'resetting' | 'unsupported' | 'unauthorized' | 'poweredOff' | 'poweredOn';

export interface BleAdvertisement {
  localName?: string;
  /** As the stack reports them; compare through normalizeUuid. */
  serviceUuids: readonly string[];
}

export interface BleCharacteristic {
  /** Normalised (lower case, no dashes). */
  readonly uuid: string;
  read(): Promise<Uint8Array>;
  /** Write with response, so the promise says whether the device took it. */
  write(data: Uint8Array): Promise<void>;
  subscribe(): Promise<void>;
  onNotification(listener: (data: Uint8Array) => void): Unsubscribe;
}

export interface BlePeripheral {
  /** The stack's handle: on Linux the address without colons, on macOS a UUID. */
  readonly id: string;
  /** `aa:bb:cc:dd:ee:ff`, or empty where the stack hides it (macOS). */
  readonly address: string;
  readonly rssi: number;
  readonly advertisement: BleAdvertisement;
  connect(): Promise<void>;
  /** Aborts a pending connect (a timed-out one); harmless when not connecting. */
  cancelConnect(): void;
  disconnect(): Promise<void>;
  /** The wanted characteristics of one service; absent ones are simply missing from the answer. */
  discoverCharacteristics(serviceUuid: string, characteristicUuids: readonly string[]): Promise<BleCharacteristic[]>;
  onDisconnect(listener: (reason: string) => void): Unsubscribe;
}

export interface BleBinding {
  readonly state: AdapterState;
  startScanning(serviceUuids: readonly string[]): Promise<void>;
  stopScanning(): Promise<void>;
  onStateChange(listener: (state: AdapterState) => void): Unsubscribe;
  onDiscover(listener: (peripheral: BlePeripheral) => void): Unsubscribe;
  /** Releases the adapter (noble.stop()): without it the HCI socket keeps the process alive. */
  close(): void;
}
