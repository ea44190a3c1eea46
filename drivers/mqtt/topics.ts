import type { DeviceCommand, DeviceInfo } from '../driver.js';
import { isDeviceId } from '../reading.js';

/** The topic layout of SPEC section 4: `<prefix>/<deviceId>/imu|status|cmd`. */
export const DEFAULT_TOPIC_PREFIX = 'gymhub';

export type TopicKind = 'imu' | 'status' | 'cmd';

export interface ParsedTopic {
  deviceId: string;
  kind: TopicKind;
}

export interface Topics {
  /** Filters the hub subscribes to. */
  imuFilter: string;
  statusFilter: string;
  command(deviceId: string): string;
  /**
   * The device and kind a topic names, or undefined for anything else (another prefix, extra levels,
   * a device id that breaks the id pattern).
   */
  parse(topic: string): ParsedTopic | undefined;
}

export function topicsFor(prefix: string = DEFAULT_TOPIC_PREFIX): Topics {
  if (prefix.length === 0 || /[+#]/.test(prefix) || prefix.endsWith('/')) {
    throw new Error(`invalid MQTT topic prefix "${prefix}"`);
  }
  const start = `${prefix}/`;
  return {
    imuFilter: `${prefix}/+/imu`,
    statusFilter: `${prefix}/+/status`,
    command: (deviceId) => `${prefix}/${deviceId}/cmd`,
    parse(topic) {
      if (!topic.startsWith(start)) return undefined;
      const slash = topic.indexOf('/', start.length);
      if (slash < 0) return undefined;
      const deviceId = topic.slice(start.length, slash);
      const kind = topic.slice(slash + 1);
      if (kind !== 'imu' && kind !== 'status' && kind !== 'cmd') return undefined;
      return isDeviceId(deviceId) ? { deviceId, kind } : undefined;
    },
  };
}

/**
 * Reads a status payload: JSON `{online, fw, hz, battery}` (every field optional, wrong types ignored),
 * or the bare words `online` / `offline` that many firmwares use as their last will.
 * Undefined for an empty payload (a cleared retained message) or anything unreadable.
 */
export function parseStatusPayload(payload: Buffer): DeviceInfo | undefined {
  if (payload.length === 0 || payload.length > MAX_STATUS_BYTES) return undefined;
  const text = payload.toString('utf8').trim();
  if (text === 'online' || text === 'offline') return { online: text === 'online' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const raw = value as Record<string, unknown>;
  const info: DeviceInfo = {};
  if (typeof raw.online === 'boolean') info.online = raw.online;
  if (typeof raw.fw === 'string' && raw.fw.length <= MAX_FW_CHARS) info.fw = raw.fw;
  if (isFiniteInRange(raw.hz, 0, MAX_HZ)) info.hz = raw.hz;
  if (isFiniteInRange(raw.battery, 0, 100)) info.battery = raw.battery;
  return Object.keys(info).length > 0 ? info : undefined;
}

export function encodeCommand(command: DeviceCommand): Buffer {
  return Buffer.from(JSON.stringify(command));
}

const MAX_STATUS_BYTES = 4096;
const MAX_FW_CHARS = 64;
const MAX_HZ = 10_000;

function isFiniteInRange(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
}
