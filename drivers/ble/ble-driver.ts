import type { Logger } from 'pino';
import { backoffDelayMs, type Clock } from '../../daemon/clock.js';
import type { DeviceCommand, DeviceInfo, Driver, DriverDeps, DriverState, DriverStatus } from '../driver.js';
import { AdapterScanner, type ScannerHooks } from './adapter-scanner.js';
import type { BleBinding, BlePeripheral, Unsubscribe } from './ble-binding.js';
import { BleEventEmitter, type BleDriverEvents, type DiscoveredBleDevice, type PairedBleDevice, type UnpairedBleDevice } from './ble-events.js';
import { BleRegistry } from './ble-registry.js';
import { ConnectQueue, withTimeout } from './connect-queue.js';
import { FrameIngest } from './frame-ingest.js';
import { encodeCommand, GATT_SERVICE_UUID, normalizeUuid } from './gatt-profile.js';
import { LogLimiter } from './log-limiter.js';
import { loadNoble, wrapNoble, type NobleLike } from './noble-binding.js';
import { normalizePairingKey } from './pairing.js';
import { AttemptEndedError, type PeripheralLink } from './peripheral-link.js';

/** Connect, service discovery, info read and subscribe together, per attempt. */
export const GATT_CONNECT_TIMEOUT_S = 15;
export const GATT_WRITE_TIMEOUT_S = 5;
export const RECONNECT_BACKOFF_BASE_MS = 1_000;
export const RECONNECT_BACKOFF_MAX_MS = 60_000;
/** How long start() waits for the adapter to say what it is before reporting 'unavailable'. */
export const POWER_ON_WAIT_MS = 3_000;
/** About 4 s of 50 sensors at 100 Hz: beyond that the store is not coming back soon. */
export const MAX_PENDING_READINGS = 20_000;
export const STOP_DRAIN_TIMEOUT_MS = 5_000;
const LOG_INTERVAL_MS = 60_000;
const SERVICE_KEY = normalizeUuid(GATT_SERVICE_UUID);

export interface BleDriverOptions extends DriverDeps {
  /** ble.autoPair: pair every device advertising the gymhub service (reported through onPaired). */
  autoPair?: boolean;
  /** The persisted pairing keys (deviceIds or addresses), read at each start(). */
  paired?: () => Iterable<string>;
  /** A new pairing (pair() or autoPair): persist `key`. */
  onPaired?: (device: PairedBleDevice) => void;
  /** unpair(): forget every key in `keys`. */
  onUnpaired?: (device: UnpairedBleDevice) => void;
  /** Tests hand in a fake noble; default: @stoprocent/noble, imported on start(). */
  loadNoble?: () => Promise<NobleLike>;
  /** Jitter source for the reconnect backoff. */
  random?: () => number;
  powerOnWaitMs?: number;
  connectTimeoutMs?: number;
  maxPendingReadings?: number;
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Bluetooth LE transport (SPEC section 4): scans, connects to paired sensors one at a time, streams IMU frames. */
export class BleDriver implements Driver {
  readonly transport = 'ble' as const;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly events: BleEventEmitter;
  private readonly registry: BleRegistry;
  private readonly ingest: FrameIngest;
  private readonly limiter: LogLimiter;
  private queue: ConnectQueue;
  private binding: BleBinding | undefined;
  private scanner: AdapterScanner | undefined;
  private unsubscribeDiscover: Unsubscribe | undefined;
  private state: DriverState = 'off';
  private detail: string | undefined;
  /** Bumped by start() and stop(): async work of an earlier run finds it changed and drops its result. */
  private run = 0;

  constructor(private readonly options: BleDriverOptions) {
    this.log = options.log;
    this.clock = options.clock;
    this.events = new BleEventEmitter(this.log);
    this.ingest = new FrameIngest(options.codec, options.sink, this.log, this.clock, options.maxPendingReadings ?? MAX_PENDING_READINGS);
    this.registry = new BleRegistry(this.clock, {
      onNotification: (link, frame) => this.state !== 'stopped' && this.ingest.handle(link, frame),
      onLost: (link, reason) => this.onLost(link, reason),
      onInfoUnreadable: (link, err) =>
        this.log.warn({ address: link.address, err: messageOf(err) }, 'BLE info characteristic unreadable; using fallback id'),
      admit: (link, deviceId) => {
        // Pairing trusts a peripheral, not a name: a second one claiming a connected device's id is refused
        // before its notifications could be stored under that id.
        const holder = this.registry.connectedLink(deviceId, link);
        return holder && `deviceId ${deviceId} is already connected from ${holder.address || holder.key}`;
      },
    });
    this.limiter = new LogLimiter(this.clock, LOG_INTERVAL_MS);
    this.queue = this.makeQueue();
  }

  on<K extends keyof BleDriverEvents>(event: K, listener: (payload: BleDriverEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  async start(): Promise<void> {
    if (this.state !== 'off' && this.state !== 'stopped') return;
    const run = ++this.run;
    this.queue = this.makeQueue();
    this.registry.seed(this.options.paired?.() ?? []);
    this.setState('starting');
    let noble: NobleLike | undefined;
    let binding: BleBinding;
    try {
      noble = await (this.options.loadNoble ?? loadNoble)();
      if (run !== this.run) return void noble.stop();
      binding = wrapNoble(noble, this.log);
    } catch (err) {
      if (run !== this.run) return;
      this.setState('unavailable', `Bluetooth LE support could not be loaded (@stoprocent/noble): ${messageOf(err)}`);
      try {
        // Loaded but not wrapped: release whatever noble opened, or it keeps the process alive.
        noble?.stop();
      } catch {
        // Nothing more to release.
      }
      return;
    }
    this.binding = binding;
    this.scanner = new AdapterScanner(binding, this.clock, this.scannerHooks(), this.options.random);
    this.unsubscribeDiscover = binding.onDiscover((peripheral) => this.onDiscover(peripheral));
    await this.scanner.settle(this.options.powerOnWaitMs ?? POWER_ON_WAIT_MS);
  }

  async stop(): Promise<void> {
    if (this.state === 'off' || this.state === 'stopped') return;
    this.run += 1;
    this.queue.close();
    this.scanner?.close();
    this.dropConnections('hub stopping');
    this.unsubscribeDiscover?.();
    this.binding?.close();
    this.binding = undefined;
    this.scanner = undefined;
    this.unsubscribeDiscover = undefined;
    this.setState('stopped');
    const pump = this.ingest.pump;
    try {
      await withTimeout(pump.drain(), STOP_DRAIN_TIMEOUT_MS, this.clock, 'flushing BLE readings');
    } catch (err) {
      this.log.warn({ err: messageOf(err), backlog: pump.backlog }, 'BLE readings not flushed at stop');
    }
  }

  status(): DriverStatus {
    const pump = this.ingest.pump;
    return {
      state: this.state,
      detail: this.detail,
      adapter: this.binding?.state ?? null,
      scanning: this.scanner?.scanning ?? false,
      autoPair: this.options.autoPair ?? false,
      paired: this.registry.pairedKeys(),
      devices: [...this.registry.links.values()].map((link) => link.snapshot()),
      discovered: this.registry.discovered(),
      queue: { active: this.queue.active ?? null, waiting: this.queue.length },
      readings: { stored: pump.stored, dropped: pump.dropped, failed: pump.failed, backlog: pump.backlog },
    };
  }

  /** Unpaired devices advertising the gymhub service, newest first: what the API offers for pairing. */
  discovered(): DiscoveredBleDevice[] {
    return this.registry.discovered();
  }

  /**
   * Pairs by deviceId or address (RangeError for neither) and connects at once when the device is in range.
   * A deviceId names a device before its first connection only if it advertises that as its local name.
   */
  pair(idOrAddress: string): PairedBleDevice {
    const { key, added, link } = this.registry.pair(idOrAddress);
    const device: PairedBleDevice = { key, id: link?.key, address: link?.address || undefined, deviceId: link?.deviceId, auto: false };
    if (added) this.reportPaired(device);
    if (link) this.enqueueConnect(link);
    return device;
  }

  /** Forgets every key naming the device and disconnects it; false when nothing was paired under that name. */
  unpair(idOrAddress: string): boolean {
    const removed = this.registry.unpair(idOrAddress);
    if (!removed) return false;
    const { keys, link } = removed;
    if (link) {
      this.queue.cancel(link.key);
      this.closeLink(link, 'unpaired');
    }
    const device: UnpairedBleDevice = { keys, id: link?.key, address: link?.address || undefined, deviceId: link?.deviceId };
    this.log.info({ keys, deviceId: device.deviceId }, 'BLE device unpaired');
    this.callback(() => this.options.onUnpaired?.(device));
    this.events.emit('unpaired', device);
    return true;
  }

  async sendCommand(deviceId: string, command: DeviceCommand): Promise<boolean> {
    const link = this.registry.connectedLink(deviceId);
    if (!link) return false;
    try {
      return await link.writeCommand(encodeCommand(command), GATT_WRITE_TIMEOUT_S * 1000, this.clock);
    } catch (err) {
      this.log.warn({ deviceId, err: messageOf(err) }, 'BLE command write failed');
      return false;
    }
  }

  private makeQueue(): ConnectQueue {
    // Noble's HCI bindings pause scanning to connect and leave it paused; resume once the queue is idle.
    return new ConnectQueue(this.log, () => this.queue.length === 0 && this.scanner?.scan());
  }

  private scannerHooks(): ScannerHooks {
    return {
      onPoweredOn: () => {
        this.log.info('Bluetooth adapter powered on');
        this.scanner?.scan();
        for (const link of this.registry.links.values()) this.enqueueConnect(link);
      },
      onUnavailable: (detail, wasOn) => {
        if (wasOn) this.dropConnections(detail);
        this.setState('unavailable', detail);
      },
      onScanning: () => this.setState('running'),
      onScanFailed: (detail) => this.setState('error', detail),
    };
  }

  private onDiscover(peripheral: BlePeripheral): void {
    if (this.state === 'stopped') return;
    // Some stacks do not filter by the scan's service list.
    if (!peripheral.advertisement.serviceUuids.some((uuid) => normalizeUuid(uuid) === SERVICE_KEY)) return;
    const existing = this.registry.linkOf(peripheral);
    if (existing) {
      existing.peripheral = peripheral;
      return this.enqueueConnect(existing);
    }
    const paired = this.registry.linkIfPaired(peripheral);
    if (paired) return this.enqueueConnect(paired);
    if (this.options.autoPair) {
      const { link } = this.registry.autoPair(peripheral);
      link.autoPaired = true;
      return this.enqueueConnect(link);
    }
    const fresh = this.registry.remember(peripheral);
    if (fresh) this.events.emit('discovered', fresh);
  }

  /** The one way into a connection: only paired, idle links with a live peripheral while the adapter is on. */
  private enqueueConnect(link: PeripheralLink): void {
    if (!this.scanner?.poweredOn || link.phase !== 'idle' || !link.peripheral || !this.registry.isPaired(link)) return;
    link.phase = 'queued';
    if (!this.queue.enqueue(link.key, () => this.connect(link))) link.phase = 'idle';
  }

  private async connect(link: PeripheralLink): Promise<void> {
    const run = this.run;
    if (!this.registry.isCurrent(link) || link.phase !== 'queued') return;
    try {
      await link.open(this.options.connectTimeoutMs ?? GATT_CONNECT_TIMEOUT_S * 1000, this.clock);
    } catch (err) {
      if (err instanceof AttemptEndedError || run !== this.run || !this.registry.isCurrent(link)) return;
      return this.connectFailed(link, messageOf(err));
    }
    if (run !== this.run || !this.registry.isCurrent(link)) return link.close();
    const deviceId = link.deviceId!;
    this.log.info({ deviceId, address: link.address, reconnects: link.reconnects }, 'BLE device connected');
    this.deviceInfo(deviceId, { fw: link.info.fw, hz: link.info.hz, address: link.address, online: true });
    if (link.autoPaired) {
      link.autoPaired = false;
      const key = normalizePairingKey(link.address) ?? link.key;
      this.reportPaired({ key, id: link.key, address: link.address || undefined, deviceId, auto: true });
    }
    this.events.emit('connected', { deviceId, id: link.key, address: link.address });
  }

  private connectFailed(link: PeripheralLink, error: string): void {
    link.failures += 1;
    link.lastError = error;
    const retryInMs = this.scheduleRetry(link);
    if (this.limiter.allow(`connect:${link.key}`)) {
      this.log.warn({ address: link.address, err: error, failures: link.failures, retryInMs }, 'BLE connect failed');
    }
    this.events.emit('connectFailed', { id: link.key, address: link.address, error, retryInMs });
  }

  private scheduleRetry(link: PeripheralLink): number | undefined {
    if (!this.scanner?.poweredOn) return undefined;
    const delay = backoffDelayMs(link.failures, RECONNECT_BACKOFF_BASE_MS, RECONNECT_BACKOFF_MAX_MS, this.options.random);
    link.phase = 'waiting';
    link.nextRetryAt = this.clock.now() + delay;
    link.retryTimer = this.clock.setTimeout(() => {
      link.retryTimer = undefined;
      link.nextRetryAt = undefined;
      if (link.phase !== 'waiting') return;
      link.phase = 'idle';
      this.enqueueConnect(link);
    }, delay);
    return delay;
  }

  private onLost(link: PeripheralLink, reason: string): void {
    const deviceId = link.deviceId!;
    if (this.limiter.allow(`lost:${link.key}`)) this.log.warn({ deviceId, address: link.address, reason }, 'BLE device disconnected');
    this.deviceInfo(deviceId, { address: link.address, online: false });
    this.events.emit('disconnected', { deviceId, id: link.key, address: link.address, reason });
    this.scheduleRetry(link);
  }

  /** Closes every link (adapter gone, driver stopping); links stay, waiting for their peripheral to return. */
  private dropConnections(reason: string): void {
    this.queue.clear();
    for (const link of this.registry.links.values()) this.closeLink(link, reason);
    this.registry.forgetPeripherals();
  }

  private closeLink(link: PeripheralLink, reason: string): void {
    const wasConnected = link.phase === 'connected';
    this.clock.clearTimeout(link.retryTimer);
    link.retryTimer = undefined;
    link.nextRetryAt = undefined;
    link.close();
    if (!wasConnected || !link.deviceId) return;
    this.deviceInfo(link.deviceId, { address: link.address, online: false });
    this.events.emit('disconnected', { deviceId: link.deviceId, id: link.key, address: link.address, reason });
  }

  private reportPaired(device: PairedBleDevice): void {
    this.log.info({ key: device.key, deviceId: device.deviceId, auto: device.auto }, 'BLE device paired');
    this.callback(() => this.options.onPaired?.(device));
    this.events.emit('paired', device);
  }

  private deviceInfo(deviceId: string, info: DeviceInfo): void {
    this.callback(() => this.options.onDeviceInfo?.(deviceId, 'ble', info));
  }

  /** The composition root's callbacks must not break the transport. */
  private callback(call: () => void): void {
    try {
      call();
    } catch (err) {
      this.log.error({ err }, 'BLE driver callback failed');
    }
  }

  private setState(state: DriverState, detail?: string): void {
    const changed = state !== this.state || detail !== this.detail;
    if (!changed) return;
    if (state !== this.state) this.log.info({ state, detail }, 'BLE driver state');
    else this.log.debug({ state, detail }, 'BLE driver detail');
    this.state = state;
    this.detail = detail;
    this.events.emit('state', { state, detail });
  }
}
