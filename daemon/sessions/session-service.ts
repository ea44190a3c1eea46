import type { Logger } from 'pino';
import { monotonicFactory } from 'ulid';
import type { Clock } from '../clock.js';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.js';
import type { EventBus, HubEvents } from '../event-bus.js';
import type { RetentionPolicy } from '../store/retention.js';
import { UnsyncedIntervalIndex, sessionRetentionPolicy } from './retention-index.js';
import type { SessionRecord } from './session-keys.js';
import { activePage, setOrClear, toSession } from './session-records.js';
import {
  checkAthleteId,
  checkCandidates,
  checkDeviceId,
  checkLabel,
  checkNotes,
  normaliseSessionId,
  type StartSessionInput,
  type UpdateSessionInput,
} from './session-input.js';
import { SessionStore, type SessionPage } from './session-store.js';
import type { Session, SessionDirectory } from './types.js';

export type { StartSessionInput, UpdateSessionInput } from './session-input.js';
export type { SessionPage } from './session-store.js';

export const LIST_LIMIT_DEFAULT = 100;
export const LIST_LIMIT_MAX = 1000;

export interface ListSessionsQuery {
  deviceId?: string;
  status?: 'active' | 'ended';
  label?: string;
  limit?: number;
  cursor?: string;
}

/** A labelled, ended session sync has yet to upload, with the label version to hand back to markSynced. */
export interface PendingSyncSession {
  session: Session;
  labelVersion: number;
}

/** For the hub's own auto-sessions; the API never passes these. */
export interface StartOptions {
  origin?: 'app' | 'auto';
  /** When motion began (not after now); by default now. */
  startedAt?: number;
}

export interface EndOptions {
  /** When motion stopped (between startedAt and now); by default now. */
  endedAt?: number;
}

export interface SessionServiceOptions {
  /** `<dataDir>/sessions` */
  dir: string;
  log: Logger;
  clock: Clock;
  bus: Pick<EventBus, 'emit'>;
  /** The active model's exercise classes (without `rest` and `unknown`); candidates must be among them. */
  knownClasses: () => readonly string[];
  /** Paired devices and their default candidates (HubState fits). */
  devices: { pairedDevice(deviceId: string): { candidates?: string[] } | undefined };
}

/**
 * Sessions (SPEC section 6): started, labelled, ended and deleted by the app; given live reps and a
 * predicted label by recognition; marked synced by sync. One active session per device. Changes are
 * applied one at a time (a queue), written durably, then announced on the bus as 'session' events.
 * Active sessions and the unsynced labelled ones (for retention) are held in memory; the rest is on disk.
 */
export class SessionService implements SessionDirectory {
  private readonly store: SessionStore;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly newId = monotonicFactory();
  /** deviceId -> its active session */
  private readonly activeByDevice = new Map<string, SessionRecord>();
  private readonly unsynced = new UnsyncedIntervalIndex();
  private queue: Promise<unknown> = Promise.resolve();
  private loaded = false;
  /** For ReadingStore's `retention` option or setRetentionPolicy(); keeps everything until open() has run. */
  readonly retentionPolicy: RetentionPolicy;

  constructor(private readonly options: SessionServiceOptions) {
    this.log = options.log;
    this.clock = options.clock;
    this.store = new SessionStore({ dir: options.dir, log: options.log });
    this.retentionPolicy = sessionRetentionPolicy(this.unsynced, () => this.loaded);
  }

  async open(): Promise<void> {
    const { active, pending } = await this.store.open();
    for (const record of active) this.activeByDevice.set(record.deviceId, record);
    for (const record of pending) this.unsynced.update(record);
    this.loaded = true;
  }

  /** Waits for changes under way, then closes the database. */
  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    this.loaded = false;
    await this.store.close();
  }

  start(input: StartSessionInput, options: StartOptions = {}): Promise<Session> {
    return this.serial(async () => {
      const deviceId = checkDeviceId(input.deviceId);
      const label = input.label === undefined ? undefined : checkLabel(input.label);
      const athleteId = input.athleteId === undefined ? undefined : checkAthleteId(input.athleteId);
      const candidates = input.candidates === undefined ? undefined : checkCandidates(input.candidates, this.options.knownClasses());
      const notes = input.notes === undefined ? undefined : checkNotes(input.notes);
      const running = this.activeByDevice.get(deviceId);
      if (running) {
        throw new ConflictError(`device ${deviceId} already has an active session (${running.id}); end it first`, { deviceId, activeSessionId: running.id });
      }
      const now = this.clock.now();
      const startedAt = options.startedAt === undefined ? now : Math.min(options.startedAt, now);
      const record: SessionRecord = {
        id: this.newId(startedAt),
        deviceId,
        ...(label !== undefined && { label }),
        ...(athleteId !== undefined && { athleteId }),
        ...(candidates !== undefined && { candidates }),
        startedAt,
        ...(notes !== undefined && { notes }),
        status: 'active',
        synced: false,
        labelVersion: label === undefined ? 0 : 1,
        ...(options.origin === 'auto' && { origin: 'auto' as const }),
      };
      await this.store.write(undefined, record, true);
      this.remember(record);
      this.log.info({ sessionId: record.id, deviceId, label, origin: options.origin ?? 'app' }, 'session started');
      return this.announce('started', record);
    });
  }

  /** Changes fields and/or ends the session. A new label on a synced session makes it unsynced (it syncs again). */
  update(id: string, input: UpdateSessionInput, options: EndOptions = {}): Promise<Session> {
    return this.serial(async () => {
      const current = await this.load(id);
      const next: SessionRecord = { ...current };
      if (input.label !== undefined && checkLabel(input.label) !== current.label) {
        next.label = input.label;
        next.labelVersion = current.labelVersion + 1;
        next.synced = false;
      }
      setOrClear(next, 'notes', input.notes, checkNotes);
      setOrClear(next, 'athleteId', input.athleteId, checkAthleteId);
      setOrClear(next, 'candidates', input.candidates, (c) => checkCandidates(c, this.options.knownClasses()));
      const ending = input.end === true && current.status === 'active';
      if (ending) {
        const now = this.clock.now();
        next.endedAt = Math.max(Math.min(options.endedAt ?? now, now), current.startedAt);
        next.status = 'ended';
      }
      if (JSON.stringify(next) === JSON.stringify(current)) return toSession(current);
      await this.store.write(current, next, true);
      this.remember(next);
      if (ending) this.log.info({ sessionId: next.id, deviceId: next.deviceId, label: next.label }, 'session ended');
      return this.announce(ending ? 'ended' : 'updated', next);
    });
  }

  async get(id: string): Promise<Session> {
    return toSession(await this.load(id));
  }

  /** Newest first; see SessionStore.list. `status: 'active'` is answered from memory. */
  async list(query: ListSessionsQuery = {}): Promise<SessionPage<Session>> {
    if (query.deviceId !== undefined) checkDeviceId(query.deviceId);
    if (query.label !== undefined) checkLabel(query.label);
    if (query.status !== undefined && query.status !== 'active' && query.status !== 'ended') throw new BadRequestError("status must be 'active' or 'ended'");
    const limit = Math.min(LIST_LIMIT_MAX, Math.max(1, Math.floor(query.limit ?? LIST_LIMIT_DEFAULT) || 1));
    if (query.status === 'active') return activePage([...this.activeByDevice.values()], { ...query, limit });
    const page = await this.store.list({ ...query, limit });
    return { items: page.items.map(toSession), nextCursor: page.nextCursor };
  }

  /** Deletes the session record; its readings stay in the reading store under normal retention. */
  delete(id: string): Promise<void> {
    return this.serial(async () => {
      const record = await this.load(id);
      await this.store.remove(record);
      this.forget(record);
      this.log.info({ sessionId: record.id, deviceId: record.deviceId }, 'session deleted');
      this.announce('deleted', record);
    });
  }

  active(deviceId: string): Session | undefined {
    const record = this.activeByDevice.get(deviceId);
    return record && toSession(record);
  }

  /** The device's active session when the hub opened it on motion (auto-sessions close only those). */
  activeAuto(deviceId: string): Session | undefined {
    const record = this.activeByDevice.get(deviceId);
    return record?.origin === 'auto' ? toSession(record) : undefined;
  }

  /** Devices whose active session the hub opened on motion. */
  autoActiveDevices(): string[] {
    return [...this.activeByDevice.values()].filter((r) => r.origin === 'auto').map((r) => r.deviceId);
  }

  /** The active session's candidates, else the paired device's default candidates, else none (all classes). */
  candidatesFor(deviceId: string): string[] | undefined {
    const own = this.activeByDevice.get(deviceId)?.candidates;
    if (own && own.length > 0) return [...own];
    const defaults = this.options.devices.pairedDevice(deviceId)?.candidates;
    return defaults && defaults.length > 0 ? [...defaults] : undefined;
  }

  /** Live (or final) reps and predicted label. A session deleted meanwhile is ignored. */
  recordRecognition(sessionId: string, result: { reps?: number; predictedLabel?: string }): Promise<void> {
    return this.serial(async () => {
      const current = await this.find(sessionId);
      if (!current) {
        this.log.debug({ sessionId }, 'recognition result for a session that is gone');
        return;
      }
      const next: SessionRecord = { ...current };
      if (result.reps !== undefined && Number.isInteger(result.reps) && result.reps >= 0) next.reps = result.reps;
      if (result.predictedLabel !== undefined && typeof result.predictedLabel === 'string') next.predictedLabel = result.predictedLabel;
      if (next.reps === current.reps && next.predictedLabel === current.predictedLabel) return;
      await this.store.write(current, next, false);
      this.remember(next);
      this.announce('updated', next);
    });
  }

  /** Ended, labelled sessions not yet synced, oldest first: what sync uploads. */
  async pendingSync(limit = Infinity): Promise<PendingSyncSession[]> {
    const records = await this.store.pendingSync();
    return records
      .filter((r) => r.status === 'ended')
      .slice(0, limit)
      .map((r) => ({ session: toSession(r), labelVersion: r.labelVersion }));
  }

  /**
   * Sync calls this once the server holds all of the session as it was at `labelVersion`. False (and nothing
   * changes) when the session is gone, still active, or was relabelled meanwhile: it then syncs again.
   */
  markSynced(id: string, labelVersion: number): Promise<boolean> {
    return this.serial(async () => {
      const current = await this.find(id);
      if (!current || current.status !== 'ended' || current.synced || current.label === undefined || current.labelVersion !== labelVersion) return false;
      const next: SessionRecord = { ...current, synced: true };
      await this.store.write(current, next, true);
      this.remember(next);
      this.announce('updated', next);
      return true;
    });
  }

  /** Sessions whose readings retention keeps (labelled, not synced). */
  get unsyncedLabelledCount(): number {
    return this.unsynced.size;
  }

  private async load(id: string): Promise<SessionRecord> {
    const record = await this.find(id);
    if (!record) throw new NotFoundError('session', id);
    return record;
  }

  private async find(id: string): Promise<SessionRecord | undefined> {
    const canonical = normaliseSessionId(id);
    for (const record of this.activeByDevice.values()) if (record.id === canonical) return record;
    return this.store.get(canonical);
  }

  private remember(record: SessionRecord): void {
    if (record.status === 'active') this.activeByDevice.set(record.deviceId, record);
    else if (this.activeByDevice.get(record.deviceId)?.id === record.id) this.activeByDevice.delete(record.deviceId);
    this.unsynced.update(record);
  }

  private forget(record: SessionRecord): void {
    if (this.activeByDevice.get(record.deviceId)?.id === record.id) this.activeByDevice.delete(record.deviceId);
    this.unsynced.remove(record);
  }

  private announce(type: HubEvents['session']['type'], record: SessionRecord): Session {
    this.options.bus.emit('session', { type, session: toSession(record) });
    return toSession(record);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
