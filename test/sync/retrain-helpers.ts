import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import type { Clock } from '../../daemon/clock.js';
import { EventBus } from '../../daemon/event-bus.js';
import { SessionService } from '../../daemon/sessions/session-service.js';
import { openState } from '../../daemon/state.js';
import { ReadingStore } from '../../daemon/store/reading-store.js';
import { ModelRegistry, loadBundledModel } from '../../models/index.js';
import { BUNDLED_TRAIN_OPTIONS, type ModelFile, type Sample, type TrainOptions } from '../../models/index.js';
import { modelVersionOf } from '../../models/model-file.js';
import { migrate } from '../../sync/migrations.js';
import { modelSha256 } from '../../sync/model-checksum.js';
import { loadShared } from '../models/helpers.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

/** Small recipes so that a retrain takes a second or two: a useful one, and one that cannot be good. */
export const SMALL_RECIPE: TrainOptions = { ...BUNDLED_TRAIN_OPTIONS, augmentSpeeds: [], forest: { ...BUNDLED_TRAIN_OPTIONS.forest, nEstimators: 10 } };
export const STUMP_RECIPE: TrainOptions = { ...SMALL_RECIPE, forest: { ...SMALL_RECIPE.forest, nEstimators: 1, maxDepth: 1 } };

const EXERCISES = ['squat', 'bicep', 'shoulder'];
/** One set of each of three exercises per lifter: `<exercise>_<lifter>_set1_...csv`. */
export function setsOf(lifters: readonly string[]): string[] {
  const tails: Record<string, string> = { adam: 'set1_reps10', anuj: 'set1_rep10', kamyar: 'set1_reps10', suzan: 'set1_reps10', udai: 'set1_reps10' };
  return EXERCISES.flatMap((e) => lifters.map((l) => `${e}_${l}_${tails[l]}_1.csv`));
}

export interface CloudDb {
  pg: TestPostgres;
  url: string;
  client: pg.Client;
  close(): Promise<void>;
}

/** A Postgres of the test's own with a fresh, migrated database and a client on it. */
export async function startCloudDb(name: string): Promise<CloudDb> {
  const server = await startPostgres();
  const url = await server.createDatabase(name);
  const client = new pg.Client({ connectionString: url });
  // tests stop the server under it; the client is then dead, which only the tests that stop it mind
  client.on('error', () => undefined);
  await client.connect();
  await migrate(client);
  return {
    pg: server,
    url,
    client,
    async close() {
      await client.end().catch(() => undefined);
      await server.close();
    },
  };
}

export interface SeededSession {
  hubId: string;
  sessionId: string;
  deviceId: string;
  label: string;
  file: string;
}

/**
 * Recordings of the shared data set as labelled sessions straight into Postgres, as an uploader would leave
 * them: one session per file, its readings on the hub's clock from t0 on (a re-sent sensor row, six values
 * equal to the previous, is dropped as the hub's codec does).
 */
export async function seedCloudSessions(client: pg.ClientBase, hubs: Record<string, { deviceId: string; files: string[] }[]>, t0 = Date.UTC(2026, 0, 1)): Promise<SeededSession[]> {
  const seeded: SeededSession[] = [];
  let start = t0;
  for (const [hubId, devices] of Object.entries(hubs)) {
    await client.query('INSERT INTO hubs (hub_id, first_seen_at, last_seen_at) VALUES ($1, $2, $2) ON CONFLICT DO NOTHING', [hubId, t0]);
    for (const { deviceId, files } of devices) {
      await client.query('INSERT INTO devices (hub_id, device_id, first_seen_at, last_seen_at) VALUES ($1, $2, $3, $3) ON CONFLICT DO NOTHING', [hubId, deviceId, t0]);
      for (const recording of await loadShared(files)) {
        const samples = dropRepeats(recording.samples);
        const first = samples[0].ts;
        const ts = samples.map((s) => start + Math.round(s.ts - first));
        const sessionId = `S${String(seeded.length + 1).padStart(4, '0')}`;
        const endedAt = ts[ts.length - 1] + 1;
        await client.query(
          `INSERT INTO sessions (hub_id, session_id, device_id, label, label_version, started_at, ended_at, reading_count, synced_at)
           VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $6)`,
          [hubId, sessionId, deviceId, recording.label, ts[0], endedAt, samples.length],
        );
        const column = (pick: (s: Sample) => number) => samples.map(pick);
        await client.query(
          `INSERT INTO readings (hub_id, device_id, ts, seq, session_id, ax, ay, az, gx, gy, gz)
           SELECT $1, $2, t, q, $3, ax, ay, az, gx, gy, gz
             FROM unnest($4::bigint[], $5::bigint[], $6::real[], $7::real[], $8::real[], $9::real[], $10::real[], $11::real[])
                  AS u(t, q, ax, ay, az, gx, gy, gz)`,
          [hubId, deviceId, sessionId, ts, samples.map((_, i) => i), column((s) => s.accel[0]), column((s) => s.accel[1]), column((s) => s.accel[2]),
            column((s) => s.gyro[0]), column((s) => s.gyro[1]), column((s) => s.gyro[2])],
        );
        seeded.push({ hubId, sessionId, deviceId, label: recording.label, file: recording.file });
        start = endedAt + 60_000;
      }
    }
  }
  return seeded;
}

function dropRepeats(samples: readonly Sample[]): Sample[] {
  const same = (a: Sample, b: Sample) => a.accel.every((v, i) => v === b.accel[i]) && a.gyro.every((v, i) => v === b.gyro[i]);
  return samples.filter((s, i) => i === 0 || !same(s, samples[i - 1]));
}

/** A model derived from another (a changed field), with its own content version. */
export function variantOf(model: ModelFile, change: Partial<ModelFile>): ModelFile {
  const { version: _version, metrics: _metrics, ...content } = { ...model, ...change };
  return { ...content, version: modelVersionOf(content) } as ModelFile;
}

/** The bundled model with its classes shifted by one: confidently wrong about every exercise. */
export function scrambledOf(model: ModelFile): ModelFile {
  return variantOf(model, { classes: [...model.classes.slice(1), model.classes[0]] });
}

/** Publishes a model row as the retrain job would (override fields to break it on purpose). */
export async function publishModel(client: pg.ClientBase, model: ModelFile, at: number, override: { sha256?: string; featureVersion?: string; metrics?: Record<string, unknown> } = {}): Promise<void> {
  const plain = JSON.parse(JSON.stringify(model)) as ModelFile;
  delete plain.metrics;
  await client.query(
    `INSERT INTO models (version, created_at, feature_version, classes, metrics, trained_on, sha256, model, published, published_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true, $2)`,
    [model.version, at, override.featureVersion ?? String(model.featureVersion), model.classes, override.metrics ?? { heldOut: { macroF1: 0.9 } },
      { hubs: ['test'], sessions: 0, windows: 0 }, override.sha256 ?? modelSha256(plain), plain],
  );
}

export interface HubSeed {
  deviceId: string;
  files: string[];
}

/**
 * Labelled, ended sessions made from recordings, written into a hub's data directory before it starts (the
 * prepare step of startTestHub): readings into its store, one session per recording through its session
 * service, all in the hour before the clock's now. `activeModel` is stored and made active.
 */
export async function seedHubSessions(
  dataDir: string,
  clock: Clock,
  seeds: readonly HubSeed[],
  options: { activeModel?: ModelFile; hubId?: string } = {},
): Promise<{ sessionId: string; label: string }[]> {
  const log = pino({ level: 'silent' });
  // a hub's identity is made at its first start; a test that needs a known one writes it first
  if (options.hubId) await writeFile(join(dataDir, 'state.json'), JSON.stringify({ hubId: options.hubId }), { mode: 0o600 });
  const state = await openState(dataDir);
  const store = new ReadingStore({ dir: join(dataDir, 'db'), log, clock });
  await store.open();
  const sessions = new SessionService({ dir: join(dataDir, 'sessions'), log, clock, bus: new EventBus(log), knownClasses: () => [], devices: state });
  await sessions.open();
  const out: { sessionId: string; label: string }[] = [];
  try {
    let start = clock.now() - 3_600_000;
    for (const { deviceId, files } of seeds) {
      for (const recording of await loadShared(files)) {
        const samples = dropRepeats(recording.samples);
        const first = samples[0].ts;
        const readings = samples.map((s) => ({ deviceId, ts: start + Math.round(s.ts - first), accel: s.accel, gyro: s.gyro }));
        await store.append(readings);
        const session = await sessions.start({ deviceId, label: recording.label }, { startedAt: start });
        const endedAt = readings[readings.length - 1].ts + 1;
        await sessions.update(session.id, { end: true }, { endedAt });
        out.push({ sessionId: session.id, label: recording.label });
        start = endedAt + 10_000;
      }
    }
    if (options.activeModel) {
      const registry = new ModelRegistry({ dataDir, loadBundled: loadBundledModel, now: () => clock.now() });
      await registry.add(options.activeModel, undefined, { source: 'hub', activate: true });
    }
  } finally {
    await sessions.close();
    await store.close();
  }
  return out;
}
