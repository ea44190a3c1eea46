import { BadRequestError } from '../errors.js';
import type { Session } from './types.js';

/**
 * Key layout of `<dataDir>/sessions` (one LevelDB, string keys and values):
 *
 *   s!<id>                                  the session record (JSON, SessionRecord)
 *   t!<startedAt>!<id>                      by start time          value: IndexEntry (what list filters on)
 *   d!<deviceId>!<startedAt>!<id>           by device and start    value: IndexEntry
 *   l!<hex(label)>!<startedAt>!<id>         by label and start     value: IndexEntry (labelled sessions only)
 *   a!<deviceId>                            the device's active session (JSON record; loaded at open)
 *   p!<startedAt>!<id>                      labelled and not synced (JSON record; loaded at open for retention,
 *                                           read oldest first by sync)
 *
 * `startedAt` is zero-padded to 15 digits so that string order is time order; device ids cannot contain `!`
 * and labels are hex-encoded, so one device's or one label's keys are one range. The id (a ULID) breaks ties.
 */
export interface SessionRecord extends Session {
  /** Goes up with every label change; sync marks a session synced only for the label version it uploaded. */
  labelVersion: number;
  /** Opened by the hub on motion (auto-sessions), which may then also close it; absent for the app's. */
  origin?: 'auto';
}

/** The index value: enough to filter a list without reading the records. */
export interface IndexEntry {
  /** deviceId */
  d: string;
  /** status: a(ctive) or e(nded) */
  s: 'a' | 'e';
  /** label */
  l?: string;
}

const TIME_DIGITS = 15;
export const TIME_PREFIX = 't!';
export const ACTIVE_PREFIX = 'a!';
export const PENDING_PREFIX = 'p!';
/** Above every key of a prefix: keys are ASCII. */
export const PREFIX_END = '\xff';

function timePart(startedAt: number): string {
  return String(Math.max(0, Math.floor(startedAt))).padStart(TIME_DIGITS, '0');
}

export const primaryKey = (id: string): string => `s!${id}`;
export const timeKey = (r: Session): string => `${TIME_PREFIX}${timePart(r.startedAt)}!${r.id}`;
export const devicePrefix = (deviceId: string): string => `d!${deviceId}!`;
export const labelPrefix = (label: string): string => `l!${Buffer.from(label, 'utf8').toString('hex')}!`;
export const activeKey = (deviceId: string): string => `${ACTIVE_PREFIX}${deviceId}`;
export const pendingKey = (r: Session): string => `${PENDING_PREFIX}${timePart(r.startedAt)}!${r.id}`;

/** Labelled and not yet synced: the readings are protected from retention and sync has work to do. */
export function isPendingSync(r: Session): boolean {
  return r.label !== undefined && !r.synced;
}

export function indexEntry(r: Session): IndexEntry {
  return r.label === undefined ? { d: r.deviceId, s: r.status === 'active' ? 'a' : 'e' } : { d: r.deviceId, s: r.status === 'active' ? 'a' : 'e', l: r.label };
}

/** Every key a record has, with its value. */
export function keysOf(r: SessionRecord): Map<string, string> {
  const record = JSON.stringify(r);
  const entry = JSON.stringify(indexEntry(r));
  const start = timePart(r.startedAt);
  const keys = new Map<string, string>([
    [primaryKey(r.id), record],
    [timeKey(r), entry],
    [`${devicePrefix(r.deviceId)}${start}!${r.id}`, entry],
  ]);
  if (r.label !== undefined) keys.set(`${labelPrefix(r.label)}${start}!${r.id}`, entry);
  if (r.status === 'active') keys.set(activeKey(r.deviceId), record);
  if (isPendingSync(r)) keys.set(pendingKey(r), record);
  return keys;
}

/** The session id at the end of an index key. */
export function idOfKey(key: string): string {
  return key.slice(key.lastIndexOf('!') + 1);
}

export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

/** The index key a cursor stands for; a cursor of another query (or garbage) is a 400. */
export function decodeCursor(cursor: string, prefix: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  const rest = key.slice(prefix.length);
  if (!key.startsWith(prefix) || !/^\d{15}![0-9A-Z]{26}$/.test(rest)) {
    throw new BadRequestError('invalid cursor: pass the nextCursor of the same query', undefined, 'bad_cursor');
  }
  return key;
}
