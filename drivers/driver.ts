import type { Logger } from 'pino';
import type { Clock } from '../daemon/clock.js';
import type { Codec } from './codec/codec.js';
import type { Reading, Transport } from './reading.js';

/**
 * Where a driver hands its decoded readings. The promise resolves only once the readings are durably
 * stored; a driver acknowledges its device (PUBACK, 202, ...) after that and never before.
 * It rejects when they could not be stored (disk full, store closed): the driver must not acknowledge.
 */
export interface ReadingSink {
  ingest(readings: Reading[], transport: Transport): Promise<void>;
}

/** What a device told the hub about itself (hello line, MQTT status, BLE info characteristic). */
export interface DeviceInfo {
  fw?: string;
  hz?: number;
  battery?: number;
  online?: boolean;
  /** Transport-specific address: serial path, BLE peripheral address. */
  address?: string;
}

export type DriverState = 'off' | 'starting' | 'running' | 'connecting' | 'unavailable' | 'error' | 'stopped';

export interface DriverStatus {
  state: DriverState;
  /** Human-readable detail for /health ("no Bluetooth adapter", "broker unreachable: ECONNREFUSED", ...). */
  detail?: string;
  /** Transport-specific figures (connected devices, reconnects, garbled lines, ...). */
  [key: string]: unknown;
}

export type DeviceCommand =
  | { cmd: 'start' | 'stop' | 'identify' }
  | { cmd: 'rate'; hz: number };

/** Every transport implements this (STYLE rule 3). */
export interface Driver {
  readonly transport: Transport;
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): DriverStatus;
  /** Sends a command to a device this driver talks to; false when the device is not reachable here. */
  sendCommand?(deviceId: string, command: DeviceCommand): Promise<boolean>;
}

/** What every driver receives from the composition root. */
export interface DriverDeps {
  codec: Codec;
  sink: ReadingSink;
  log: Logger;
  clock: Clock;
  /** Called when a device announces itself or changes status. */
  onDeviceInfo?: (deviceId: string, transport: Transport, info: DeviceInfo) => void;
}
