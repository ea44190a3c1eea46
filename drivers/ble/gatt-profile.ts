import { isDeviceId } from '../reading.js';
import type { DeviceCommand } from '../driver.js';

/** The gymhub GATT profile (SPEC section 4). The characteristics share the service UUID's tail. */
export const GATT_SERVICE_UUID = '9a3b0001-7c2e-4f6a-9d21-5b8e6f0a1c00';
/** Notify: one binary frame (format d) per notification. */
export const IMU_CHARACTERISTIC_UUID = '9a3b0002-7c2e-4f6a-9d21-5b8e6f0a1c00';
/** Read: JSON `{deviceId, fw, hz}`. */
export const INFO_CHARACTERISTIC_UUID = '9a3b0003-7c2e-4f6a-9d21-5b8e6f0a1c00';
/** Write: JSON `{"cmd": ...}`, the same commands as MQTT's cmd topic. */
export const COMMAND_CHARACTERISTIC_UUID = '9a3b0004-7c2e-4f6a-9d21-5b8e6f0a1c00';

/** A GATT read answers at most 512 bytes; anything longer is not our firmware talking. */
export const INFO_MAX_BYTES = 512;

/**
 * The form noble uses and reports: lower case, no dashes. Stacks differ (CoreBluetooth, BlueZ, the spec's
 * dashed form), so every UUID comparison goes through this.
 */
export function normalizeUuid(uuid: string): string {
  return uuid.toLowerCase().replace(/-/g, '');
}

export interface BleDeviceInfo {
  deviceId?: string;
  fw?: string;
  hz?: number;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Parses the info characteristic. Never throws: a device with an unreadable info characteristic still
 * streams, under its fallback id. ESP32 stacks often pad a characteristic's value with NULs, so those go.
 */
export function parseDeviceInfo(value: Uint8Array): BleDeviceInfo {
  if (value.length === 0 || value.length > INFO_MAX_BYTES) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(value).replace(/\0+$/, ''));
  } catch {
    return {};
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
  const record = parsed as Record<string, unknown>;
  const info: BleDeviceInfo = {};
  if (isDeviceId(record.deviceId)) info.deviceId = record.deviceId;
  if (typeof record.fw === 'string' && record.fw.length <= 64) info.fw = record.fw;
  if (typeof record.hz === 'number' && Number.isFinite(record.hz) && record.hz > 0 && record.hz <= 10_000) info.hz = record.hz;
  return info;
}

/** The id a device gets when its info characteristic does not name it: `ble-<address>`. */
export function fallbackDeviceId(address: string, peripheralId: string): string {
  const candidate = `ble-${(address || peripheralId).toLowerCase()}`;
  return isDeviceId(candidate) ? candidate : `ble-${peripheralId.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 60)}`;
}

export function encodeCommand(command: DeviceCommand): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(command));
}
