import { EventEmitter } from 'node:events';
import type { NobleCharacteristicLike, NobleLike, NoblePeripheralLike } from '../../drivers/ble/noble-binding.js';
import {
  COMMAND_CHARACTERISTIC_UUID,
  GATT_SERVICE_UUID,
  IMU_CHARACTERISTIC_UUID,
  INFO_CHARACTERISTIC_UUID,
  normalizeUuid,
} from '../../drivers/ble/gatt-profile.js';

/**
 * An in-memory stand-in for @stoprocent/noble 2.x with the same event-emitter surface: 'stateChange' once
 * bindings start (on the first 'stateChange' listener or `state` read, a tick later, as noble does), 'discover'
 * with peripherals, peripherals with connectAsync/disconnectAsync/discoverSome...Async and 'disconnect',
 * characteristics with readAsync/writeAsync/subscribeAsync and 'data' (data, isNotification).
 */
export class FakeNoble extends EventEmitter implements NobleLike {
  private current = 'unknown';
  private started = false;
  scanning = false;
  scanUuids: string[] = [];
  scanStarts = 0;
  stopped = false;
  /** The next startScanningAsync calls that fail, as a busy controller's do. */
  failScans = 0;
  /** Connects in progress right now, and the most ever at once (the driver must keep it at 1). */
  connecting = 0;
  maxConnecting = 0;
  readonly connectLog: string[] = [];
  readonly peripherals = new Map<string, FakePeripheral>();

  constructor(private readonly initialState = 'poweredOn') {
    super();
    this.on('newListener', (event: string) => {
      if (event === 'stateChange') this.startBindings();
    });
  }

  get state(): string {
    this.startBindings();
    return this.current;
  }

  /** Emulates the adapter changing state; leaving poweredOn drops every connection first, as noble does. */
  setState(state: string): void {
    if (this.current === 'poweredOn' && state !== 'poweredOn') {
      this.scanning = false;
      for (const peripheral of this.peripherals.values()) peripheral.cleanup();
    }
    this.current = state;
    this.emit('stateChange', state);
  }

  async startScanningAsync(serviceUuids: string[] = [], _allowDuplicates?: boolean): Promise<void> {
    if (this.current !== 'poweredOn') throw new Error(`Could not start scanning, state is ${this.current} (not poweredOn)`);
    if (this.failScans > 0) {
      this.failScans -= 1;
      throw new Error('Command Disallowed (fake)');
    }
    this.scanning = true;
    this.scanUuids = serviceUuids;
    this.scanStarts += 1;
  }

  async stopScanningAsync(): Promise<void> {
    this.scanning = false;
  }

  stop(): void {
    this.stopped = true;
    this.scanning = false;
  }

  addPeripheral(peripheral: FakePeripheral): FakePeripheral {
    this.peripherals.set(peripheral.id, peripheral);
    return peripheral;
  }

  /** The peripheral advertises; like noble's HCI bindings, only while scanning and matching the scan's UUIDs. */
  advertise(peripheral: FakePeripheral): boolean {
    this.addPeripheral(peripheral);
    if (!this.scanning) return false;
    const uuids = peripheral.advertisement.serviceUuids ?? [];
    if (this.scanUuids.length > 0 && !uuids.some((uuid) => this.scanUuids.includes(uuid))) return false;
    this.emit('discover', peripheral);
    return true;
  }

  private startBindings(): void {
    if (this.started) return;
    this.started = true;
    process.nextTick(() => this.setState(this.initialState));
  }
}

/** 'hang' waits until cancelled; 'stuck' ignores even the cancel, as a wedged controller can. */
export type ConnectBehaviour = 'ok' | 'hang' | 'stuck' | 'fail';

export class FakePeripheral extends EventEmitter implements NoblePeripheralLike {
  state: 'disconnected' | 'connecting' | 'connected' = 'disconnected';
  rssi = -60;
  connectBehaviour: ConnectBehaviour = 'ok';
  connectCalls = 0;
  cancelCalls = 0;
  readonly characteristics: FakeCharacteristic[] = [];
  private pendingConnect: { resolve: () => void; reject: (err: Error) => void } | undefined;

  constructor(
    private readonly noble: FakeNoble,
    readonly id: string,
    readonly address: string,
    readonly advertisement: { localName?: string; serviceUuids?: string[] },
  ) {
    super();
  }

  async connectAsync(): Promise<void> {
    this.connectCalls += 1;
    this.noble.connectLog.push(this.id);
    this.noble.connecting += 1;
    this.noble.maxConnecting = Math.max(this.noble.maxConnecting, this.noble.connecting);
    this.state = 'connecting';
    try {
      if (this.connectBehaviour === 'fail') throw new Error('connection failed (fake)');
      if (this.connectBehaviour === 'hang') {
        await new Promise<void>((resolve, reject) => {
          this.pendingConnect = { resolve, reject };
        });
      }
      if (this.connectBehaviour === 'stuck') await new Promise<void>(() => undefined);
      this.state = 'connected';
    } catch (err) {
      this.state = 'disconnected';
      throw err;
    } finally {
      this.noble.connecting -= 1;
      this.pendingConnect = undefined;
    }
  }

  cancelConnect(): void {
    this.cancelCalls += 1;
    this.pendingConnect?.reject(new Error('connection canceled!'));
  }

  async disconnectAsync(): Promise<void> {
    if (this.state === 'connected') this.drop('local disconnect');
  }

  async discoverSomeServicesAndCharacteristicsAsync(
    serviceUuids: string[],
    characteristicUuids: string[],
  ): Promise<{ characteristics: NobleCharacteristicLike[] }> {
    if (this.state !== 'connected') throw new Error('not connected');
    if (!serviceUuids.includes(normalizeUuid(GATT_SERVICE_UUID))) return { characteristics: [] };
    return { characteristics: this.characteristics.filter((c) => characteristicUuids.includes(c.uuid)) };
  }

  /** The link drops (device out of range, reset): noble emits 'disconnect' with the HCI reason. */
  drop(reason: string | number = 0x08): void {
    if (this.state === 'disconnected') return;
    this.state = 'disconnected';
    for (const characteristic of this.characteristics) characteristic.subscribed = false;
    this.emit('disconnect', reason);
  }

  cleanup(): void {
    this.pendingConnect?.reject(new Error('cleanup'));
    if (this.state === 'connected') this.drop('cleanup');
  }

  characteristic(uuid: string): FakeCharacteristic {
    const found = this.characteristics.find((c) => c.uuid === normalizeUuid(uuid));
    if (!found) throw new Error(`no characteristic ${uuid}`);
    return found;
  }

  get imu(): FakeCharacteristic {
    return this.characteristic(IMU_CHARACTERISTIC_UUID);
  }
}

export class FakeCharacteristic extends EventEmitter implements NobleCharacteristicLike {
  subscribed = false;
  readonly writes: Buffer[] = [];
  readError: Error | undefined;

  constructor(
    readonly uuid: string,
    public value: Buffer = Buffer.alloc(0),
  ) {
    super();
  }

  async readAsync(): Promise<Buffer> {
    if (this.readError) throw this.readError;
    return this.value;
  }

  async writeAsync(data: Buffer, _withoutResponse: boolean): Promise<void> {
    if (!Buffer.isBuffer(data)) throw new Error('data must be a Buffer');
    this.writes.push(Buffer.from(data));
  }

  async subscribeAsync(): Promise<void> {
    this.subscribed = true;
  }

  /** The device sends a notification; dropped unless subscribed, as a real CCCD would. */
  notify(data: Uint8Array): boolean {
    if (!this.subscribed) return false;
    this.emit('data', Buffer.from(data), true);
    return true;
  }
}

export interface SensorOptions {
  /** Linux-style address; the id is the address without colons. */
  address: string;
  /** What the info characteristic answers: an object is sent as JSON, a string as is. */
  info?: Record<string, unknown> | string;
  localName?: string;
  /** Leave out the command characteristic. */
  noCommand?: boolean;
}

/** A gymhub ESP32 sensor as noble would present it: the service advertised, three characteristics. */
export function makeSensor(noble: FakeNoble, options: SensorOptions): FakePeripheral {
  const id = options.address.replace(/:/g, '').toLowerCase();
  const peripheral = new FakePeripheral(noble, id, options.address.toLowerCase(), {
    localName: options.localName,
    serviceUuids: [normalizeUuid(GATT_SERVICE_UUID)],
  });
  const info = options.info === undefined ? '' : typeof options.info === 'string' ? options.info : JSON.stringify(options.info);
  peripheral.characteristics.push(
    new FakeCharacteristic(normalizeUuid(IMU_CHARACTERISTIC_UUID)),
    new FakeCharacteristic(normalizeUuid(INFO_CHARACTERISTIC_UUID), Buffer.from(info)),
  );
  if (!options.noCommand) peripheral.characteristics.push(new FakeCharacteristic(normalizeUuid(COMMAND_CHARACTERISTIC_UUID)));
  return noble.addPeripheral(peripheral);
}
