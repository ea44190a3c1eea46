import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { EventBus, type HubEvents } from '../../daemon/event-bus.js';
import { PredictionStore } from '../../daemon/recognition/prediction-store.js';
import { RecognitionService, type RecognitionServiceOptions, type RecognitionSessions } from '../../daemon/recognition/recognition-service.js';
import type { Prediction, Session } from '../../daemon/sessions/types.js';
import { ReadingStore } from '../../daemon/store/reading-store.js';
import type { Reading } from '../../drivers/reading.js';
import { ModelRegistry, loadBundledModel, type ModelFile } from '../../models/index.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { loadShared } from '../models/helpers.js';

export const silent = pino({ level: 'silent' });

/** A recording of the shared data set as one device's readings, its device millis mapped to start at t0. */
export async function recordingReadings(file: string, deviceId: string, t0: number): Promise<Reading[]> {
  const [recording] = await loadShared([file]);
  const first = recording.samples[0].ts;
  return recording.samples.map((s) => ({ deviceId, ts: t0 + (s.ts - first), accel: s.accel, gyro: s.gyro }));
}

/** Sessions as recognition sees them, announced on the bus like SessionService does; results recorded. */
export class FakeSessions implements RecognitionSessions {
  readonly sessions = new Map<string, Session>();
  readonly records: { sessionId: string; result: { reps?: number; predictedLabel?: string } }[] = [];
  readonly defaults = new Map<string, string[]>();
  private next = 1;

  constructor(
    private readonly bus: EventBus,
    private readonly clock: FakeClock,
  ) {}

  start(deviceId: string, fields: Partial<Session> = {}): Session {
    const session: Session = { id: `S${String(this.next++).padStart(4, '0')}`, deviceId, startedAt: this.clock.now(), status: 'active', synced: false, ...fields };
    this.sessions.set(session.id, session);
    this.bus.emit('session', { type: session.status === 'ended' ? 'ended' : 'started', session: { ...session } });
    return session;
  }

  /** A session that is over already (labelled sets to train on), without events. */
  addEnded(fields: Omit<Session, 'id' | 'status' | 'synced'>): Session {
    const session: Session = { id: `S${String(this.next++).padStart(4, '0')}`, status: 'ended', synced: false, ...fields };
    this.sessions.set(session.id, session);
    return session;
  }

  update(id: string, patch: Partial<Session>): void {
    const session = { ...this.sessions.get(id)!, ...patch };
    this.sessions.set(id, session);
    this.bus.emit('session', { type: 'updated', session: { ...session } });
  }

  end(id: string, endedAt = this.clock.now()): Session {
    const session: Session = { ...this.sessions.get(id)!, status: 'ended', endedAt };
    this.sessions.set(id, session);
    this.bus.emit('session', { type: 'ended', session: { ...session } });
    return session;
  }

  active(deviceId: string): Session | undefined {
    for (const s of this.sessions.values()) if (s.deviceId === deviceId && s.status === 'active') return { ...s };
    return undefined;
  }

  candidatesFor(deviceId: string): string[] | undefined {
    return this.active(deviceId)?.candidates ?? this.defaults.get(deviceId);
  }

  async recordRecognition(sessionId: string, result: { reps?: number; predictedLabel?: string }): Promise<void> {
    this.records.push({ sessionId, result });
    const session = this.sessions.get(sessionId);
    if (session) this.sessions.set(sessionId, { ...session, ...result });
  }

  async list(query: { status?: 'active' | 'ended'; limit?: number; cursor?: string }) {
    const all = [...this.sessions.values()].filter((s) => !query.status || s.status === query.status).sort((a, b) => b.startedAt - a.startedAt);
    const start = query.cursor ? Number(query.cursor) : 0;
    const limit = query.limit ?? 100;
    const items = all.slice(start, start + limit);
    return { items, nextCursor: start + limit < all.length ? String(start + limit) : null };
  }

  resultsOf(sessionId: string) {
    return this.records.filter((r) => r.sessionId === sessionId).map((r) => r.result);
  }
}

export interface Rig {
  dir: string;
  clock: FakeClock;
  bus: EventBus;
  sessions: FakeSessions;
  registry: ModelRegistry;
  predictions: PredictionStore;
  readings: ReadingStore;
  service: RecognitionService;
  emitted: { predictions: Prediction[]; reps: HubEvents['reps'][] };
  /** Stores readings, then announces them, as the ingest pipeline does. */
  ingest(readings: Reading[]): Promise<void>;
  /** Ingests in batches of `batch`, moving the clock along with the readings. */
  stream(readings: Reading[], batch?: number): Promise<void>;
  /** Stops the service and closes the stores; `keep` leaves the directory for a restart. */
  close(keep?: boolean): Promise<void>;
}

let bundled: Promise<ModelFile> | undefined;
export const bundledModel = () => (bundled ??= loadBundledModel());

export interface RigOptions {
  dir?: string;
  clock?: FakeClock;
  sessions?: (bus: EventBus, clock: FakeClock) => FakeSessions;
  service?: Partial<RecognitionServiceOptions>;
}

/** The service over real stores in a temporary directory, with a fake clock and fake sessions. */
export async function startRig(options: RigOptions = {}): Promise<Rig> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'gymhub-recognition-')));
  const clock = options.clock ?? new FakeClock();
  const bus = new EventBus(silent);
  const sessions = options.sessions?.(bus, clock) ?? new FakeSessions(bus, clock);
  const registry = new ModelRegistry({ dataDir: dir, loadBundled: bundledModel, now: () => clock.now() });
  const predictions = new PredictionStore({ dir: join(dir, 'predictions'), log: silent, clock });
  await predictions.open();
  const readings = new ReadingStore({ dir: join(dir, 'db'), log: silent, clock });
  await readings.open();
  const service = new RecognitionService({ bus, sessions, registry, predictions, readings, log: silent, clock, ...options.service });
  await service.start();
  const emitted: Rig['emitted'] = { predictions: [], reps: [] };
  bus.on('prediction', 'test', (p) => emitted.predictions.push(p));
  bus.on('reps', 'test', (r) => emitted.reps.push(r));
  const ingest = async (batch: Reading[]) => {
    await readings.append(batch);
    bus.emit('readings', { transport: 'mqtt', readings: batch });
  };
  return {
    dir, clock, bus, sessions, registry, predictions, readings, service, emitted, ingest,
    async stream(all, batch = 25) {
      for (let i = 0; i < all.length; i += batch) {
        const part = all.slice(i, i + batch);
        const lastTs = part[part.length - 1].ts;
        if (lastTs > clock.now()) clock.advance(lastTs - clock.now());
        await ingest(part);
      }
    },
    async close(keep = false) {
      await service.stop();
      await predictions.close();
      await readings.close();
      if (!keep) await rm(dir, { recursive: true, force: true });
    },
  };
}
