import type { Clock, Timer } from '../../daemon/clock.js';
import type { BleCharacteristic, BlePeripheral, Unsubscribe } from './ble-binding.js';
import { withTimeout } from './connect-queue.js';
import {
  COMMAND_CHARACTERISTIC_UUID,
  fallbackDeviceId,
  GATT_SERVICE_UUID,
  IMU_CHARACTERISTIC_UUID,
  INFO_CHARACTERISTIC_UUID,
  normalizeUuid,
  parseDeviceInfo,
  type BleDeviceInfo,
} from './gatt-profile.js';
import type { PeripheralIdentity } from './pairing.js';

export type LinkPhase = 'idle' | 'queued' | 'connecting' | 'connected' | 'waiting';

/** Thrown inside a connection attempt that was abandoned (timed out, unpaired, driver stopped). */
export class AttemptEndedError extends Error {
  constructor() {
    super('connection attempt abandoned');
    this.name = 'AttemptEndedError';
  }
}

/**
 * One connection attempt. Noble's promises can settle long after the hub gave up on them (a connect that
 * completes after its timeout), so everything an attempt registers is tied to it and released with it, and
 * its late steps find it dead and stop.
 */
class Attempt {
  alive = true;
  connected = false;
  lostReason: string | undefined;
  /** Rejects when the attempt is ended, so a setup stuck in the stack does not outlive it (nor its timer). */
  readonly ended: Promise<never>;
  private abandon!: (err: Error) => void;
  private unsubscribes: Unsubscribe[] = [];

  constructor() {
    this.ended = new Promise<never>((_, reject) => (this.abandon = reject));
    this.ended.catch(() => undefined);
  }

  add(unsubscribe: Unsubscribe): void {
    if (this.alive) this.unsubscribes.push(unsubscribe);
    else unsubscribe();
  }

  check(): void {
    if (!this.alive) throw new AttemptEndedError();
  }

  end(): void {
    this.alive = false;
    this.abandon(new AttemptEndedError());
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }
}

export interface LinkHooks {
  onNotification(link: PeripheralLink, frame: Uint8Array): void;
  /** An established connection dropped (not called for failed or abandoned attempts). */
  onLost(link: PeripheralLink, reason: string): void;
  /** The info characteristic could not be read; the device streams under its fallback id. */
  onInfoUnreadable(link: PeripheralLink, err: unknown): void;
  /** Asked before subscribing, once the device has named itself: a reason to refuse it, or undefined. */
  admit(link: PeripheralLink, deviceId: string): string | undefined;
}

/** What the hub knows and does about one paired peripheral: the GATT session and its counters. */
export class PeripheralLink {
  phase: LinkPhase = 'idle';
  deviceId: string | undefined;
  info: BleDeviceInfo = {};
  /** Consecutive failed attempts since the last good connection: the backoff exponent. */
  failures = 0;
  connects = 0;
  lastError: string | undefined;
  retryTimer: Timer | undefined;
  nextRetryAt: number | undefined;
  /** Paired by ble.autoPair: reported through onPaired once it connects and names itself. */
  autoPaired = false;
  readonly counters = { frames: 0, readings: 0, rejected: 0, duplicates: 0, gaps: 0, dropped: 0 };
  private attempt: Attempt | undefined;
  private command: BleCharacteristic | undefined;
  private lastAddress: string;

  constructor(
    readonly key: string,
    private current: BlePeripheral | undefined,
    private readonly hooks: LinkHooks,
  ) {
    this.lastAddress = current?.address ?? '';
  }

  get peripheral(): BlePeripheral | undefined {
    return this.current;
  }

  /** A fresh peripheral object after rediscovery, or none after the adapter went away. */
  set peripheral(peripheral: BlePeripheral | undefined) {
    this.current = peripheral;
    if (peripheral?.address) this.lastAddress = peripheral.address;
  }

  get address(): string {
    return this.current?.address || this.lastAddress;
  }

  get reconnects(): number {
    return Math.max(0, this.connects - 1);
  }

  identity(): PeripheralIdentity {
    return { id: this.key, address: this.address, localName: this.current?.advertisement.localName, deviceId: this.deviceId };
  }

  /** The link as status() and /health show it. */
  snapshot(): Record<string, unknown> {
    return {
      deviceId: this.deviceId ?? null,
      id: this.key,
      address: this.address,
      rssi: this.current?.rssi ?? null,
      connected: this.phase === 'connected',
      paired: true,
      phase: this.phase,
      reconnects: this.reconnects,
      failures: this.failures,
      lastError: this.lastError ?? null,
      nextRetryAt: this.nextRetryAt ?? null,
      fw: this.info.fw ?? null,
      hz: this.info.hz ?? null,
      ...this.counters,
    };
  }

  /** Connects, reads the info, subscribes to the IMU. Throws on failure or timeout, with everything released. */
  async open(timeoutMs: number, clock: Clock): Promise<void> {
    const peripheral = this.current;
    if (!peripheral) throw new Error('peripheral not discovered since the adapter came up');
    this.attempt?.end();
    const attempt = new Attempt();
    this.attempt = attempt;
    this.phase = 'connecting';
    try {
      await withTimeout(Promise.race([this.setup(peripheral, attempt), attempt.ended]), timeoutMs, clock, 'GATT connect and setup');
      attempt.check();
      if (attempt.lostReason !== undefined) throw new Error(`disconnected during setup: ${attempt.lostReason}`);
    } catch (err) {
      this.release(attempt, peripheral);
      if (this.attempt === attempt) this.phase = 'idle';
      throw err;
    }
    this.phase = 'connected';
    this.connects += 1;
    this.failures = 0;
    this.lastError = undefined;
  }

  /** Drops the connection (or the attempt in progress) without reporting it as lost. */
  close(): void {
    const attempt = this.attempt;
    this.attempt = undefined;
    if (attempt && this.current) this.release(attempt, this.current);
    this.phase = 'idle';
  }

  /** False when there is no connection or the device has no command characteristic. */
  async writeCommand(data: Uint8Array, timeoutMs: number, clock: Clock): Promise<boolean> {
    const command = this.command;
    if (this.phase !== 'connected' || !command) return false;
    await withTimeout(command.write(data), timeoutMs, clock, 'GATT command write');
    return true;
  }

  private async setup(peripheral: BlePeripheral, attempt: Attempt): Promise<void> {
    attempt.add(peripheral.onDisconnect((reason) => this.disconnected(attempt, reason)));
    await peripheral.connect();
    attempt.connected = true;
    attempt.check();
    const found = await peripheral.discoverCharacteristics(GATT_SERVICE_UUID, [
      IMU_CHARACTERISTIC_UUID,
      INFO_CHARACTERISTIC_UUID,
      COMMAND_CHARACTERISTIC_UUID,
    ]);
    attempt.check();
    const byUuid = new Map(found.map((characteristic) => [normalizeUuid(characteristic.uuid), characteristic]));
    const imu = byUuid.get(normalizeUuid(IMU_CHARACTERISTIC_UUID));
    if (!imu) throw new Error('device has no IMU characteristic');
    const infoCharacteristic = byUuid.get(normalizeUuid(INFO_CHARACTERISTIC_UUID));
    let info: BleDeviceInfo = {};
    if (infoCharacteristic) {
      try {
        info = parseDeviceInfo(await infoCharacteristic.read());
      } catch (err) {
        attempt.check();
        this.hooks.onInfoUnreadable(this, err);
      }
      attempt.check();
    }
    this.info = info;
    this.deviceId = info.deviceId ?? fallbackDeviceId(peripheral.address, peripheral.id);
    const refusal = this.hooks.admit(this, this.deviceId);
    if (refusal !== undefined) throw new Error(refusal);
    // Listen before subscribing: the first notification can arrive before subscribe's answer does.
    attempt.add(imu.onNotification((frame) => attempt.alive && this.hooks.onNotification(this, frame)));
    await imu.subscribe();
    attempt.check();
    this.command = byUuid.get(normalizeUuid(COMMAND_CHARACTERISTIC_UUID));
  }

  private disconnected(attempt: Attempt, reason: string): void {
    if (!attempt.alive) return;
    if (this.phase !== 'connected') {
      // Mid-setup: the setup's own failure (or its timeout) reports it, once.
      attempt.lostReason = reason;
      return;
    }
    attempt.end();
    this.attempt = undefined;
    this.command = undefined;
    this.phase = 'idle';
    this.hooks.onLost(this, reason);
  }

  private release(attempt: Attempt, peripheral: BlePeripheral): void {
    const wasConnected = attempt.connected;
    attempt.end();
    this.command = undefined;
    try {
      // Disconnect's promise settles only on a disconnect event, which may never come: never awaited.
      if (wasConnected) peripheral.disconnect().catch(() => undefined);
      else peripheral.cancelConnect();
    } catch {
      // Releasing a connection the stack already dropped is not an error worth reporting.
    }
  }
}
