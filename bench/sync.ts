/**
 * bench/sync: readings/s uploaded into a local Postgres by the hub's real uploader, with a raw COPY of the same
 * rows as the baseline measured in the same run (SPEC section 11: sync >= 50,000 readings/s).
 *
 *   node --import tsx bench/sync.ts [--readings N] [--sessions S] [--chunk C]
 *
 * A hub data directory is seeded with S labelled, ended sessions holding N readings in all (half of them with
 * magnetometer and temperature), in a real reading store and session store. Then, each into a fresh migrated
 * database on the same Postgres (the test helper's own, or DATABASE_URL):
 * 1. raw: the same rows, already formatted, one COPY per session straight into `readings`: what Postgres takes
 *    at best with the schema's keys and indexes.
 * 2. sync: SyncService.syncNow() from the store, as the hub runs it: connect, migrate, every session read from
 *    the store and formatted, a COPY transaction per chunk straight into `readings` (a first upload), the count
 *    check and the session row, markSynced on the hub.
 * 3. sync, re-send: the same, with each session's first reading already in Postgres (as after a cut): every
 *    chunk goes through staging + INSERT ... ON CONFLICT DO NOTHING.
 * Prints one JSON line per figure.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pino } from 'pino';
import { systemClock } from '../daemon/clock.js';
import { EventBus } from '../daemon/event-bus.js';
import { SessionService } from '../daemon/sessions/session-service.js';
import { sessionRange } from '../daemon/sessions/session-export.js';
import { openState } from '../daemon/state.js';
import { ReadingStore } from '../daemon/store/reading-store.js';
import { COPY_COLUMNS, CopyRows } from '../sync/copy-rows.js';
import { migrate } from '../sync/migrations.js';
import { SyncService } from '../sync/sync-service.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { seedHubData, type SessionPlan } from '../test/sync/sync-fixture.js';

const { values } = parseArgs({ options: { readings: { type: 'string', default: '500000' }, sessions: { type: 'string', default: '10' }, chunk: { type: 'string', default: '10000' } } });
const READINGS = Number(values.readings);
const SESSIONS = Number(values.sessions);
const CHUNK = Number(values.chunk);
const machine = { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version };
const log = pino({ level: 'silent' });

function emit(figure: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(figure)}\n`);
}

/** The hub's stores on a seeded data directory, and what its sync has to upload. */
async function openHub(dir: string) {
  const state = await openState(dir);
  const bus = new EventBus(log);
  const sessions = new SessionService({ dir: join(dir, 'sessions'), log, clock: systemClock, bus, knownClasses: () => [], devices: state });
  const store = new ReadingStore({ dir: join(dir, 'db'), log, clock: systemClock });
  await store.open();
  await sessions.open();
  const pending = await sessions.pendingSync();
  return { bus, sessions, store, pending, close: async () => (await sessions.close(), await store.close()) };
}

async function countReadings(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query('SELECT count(*) AS n FROM readings')).rows[0].n);
  } finally {
    await client.end();
  }
}

/** One sync run of the hub on `dir` into a fresh database; `resend` first puts each session's first reading there. */
async function syncRun(dir: string, database: string, hubId: string, total: number, resend: boolean): Promise<{ perS: number; sessions: number }> {
  const hub = await openHub(dir);
  const url = await server.createDatabase(database);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await migrate(client);
  if (resend) {
    for (const { session } of hub.pending) {
      const rows = new CopyRows(`${hubId}\t${session.deviceId}\t${session.id}\t`);
      for await (const chunk of hub.store.iterate(session.deviceId, session.startedAt, session.endedAt)) {
        rows.add(chunk, 0, 1);
        break;
      }
      await pipeline(Readable.from([rows.take().payload]), client.query(copyFrom(`COPY readings (${COPY_COLUMNS.join(', ')}) FROM STDIN`)));
    }
  }
  await client.end();
  const sync = new SyncService({ url, hubId, sessions: hub.sessions, readings: hub.store, bus: hub.bus, clock: systemClock, log, chunkReadings: CHUNK });
  // start() runs at once; syncNow() joins that run and resolves when it is over.
  const started = performance.now();
  sync.start();
  const status = await sync.syncNow();
  const seconds = (performance.now() - started) / 1000;
  await sync.stop();
  await hub.close();
  if (status.state !== 'idle' || status.pendingSessions !== 0) throw new Error(`sync did not finish: ${JSON.stringify(status)}`);
  const held = await countReadings(url);
  if (held !== total) throw new Error(`expected ${total} readings in Postgres, found ${held}`);
  return { perS: total / seconds, sessions: status.uploadedSessions };
}

const server = await startPostgres();
const root = await mkdtemp(join(tmpdir(), 'gymhub-bench-sync-'));
try {
  const dataDir = join(root, 'fresh');
  const plans: SessionPlan[] = Array.from({ length: SESSIONS }, (_, i) => ({
    deviceId: `ESP32_${String(i % 4).padStart(3, '0')}`, label: i % 2 === 0 ? 'squat' : 'bicep_curl', readings: Math.floor(READINGS / SESSIONS), withMag: i % 2 === 1,
  }));
  const seedStarted = performance.now();
  const hubId = await seedHubData(dataDir, plans, 42);
  const seedS = (performance.now() - seedStarted) / 1000;
  await cp(dataDir, join(root, 'resend'), { recursive: true });
  const total = plans.reduce((sum, p) => sum + p.readings, 0);

  // The baseline's rows: the same readings, formatted before the clock starts.
  const hub = await openHub(dataDir);
  const payloads: Buffer[] = [];
  for (const { session } of hub.pending) {
    const rows = new CopyRows(`${hubId}\t${session.deviceId}\t${session.id}\t`);
    const { from, to } = sessionRange(session);
    for await (const chunk of hub.store.iterate(session.deviceId, from, to)) rows.add(chunk);
    payloads.push(rows.take().payload);
  }
  await hub.close();
  const rawUrl = await server.createDatabase('bench_sync_raw');
  const raw = new pg.Client({ connectionString: rawUrl });
  await raw.connect();
  await migrate(raw);
  const rawStarted = performance.now();
  for (const payload of payloads) {
    await pipeline(Readable.from([payload]), raw.query(copyFrom(`COPY readings (${COPY_COLUMNS.join(', ')}) FROM STDIN`)));
  }
  const rawPerS = total / ((performance.now() - rawStarted) / 1000);
  await raw.end();
  if ((await countReadings(rawUrl)) !== total) throw new Error('the raw COPY lost readings');
  emit({ bench: 'sync', figure: 'raw_copy_readings_per_s', value: Math.round(rawPerS), readings: total, sessions: SESSIONS, seedS: +seedS.toFixed(1), machine });

  const fresh = await syncRun(dataDir, 'bench_sync', hubId, total, false);
  emit({ bench: 'sync', figure: 'sync_readings_per_s', value: Math.round(fresh.perS), ratioToRaw: +(fresh.perS / rawPerS).toFixed(2), target: '>= 50000', chunkReadings: CHUNK, readings: total, sessions: fresh.sessions });
  const resend = await syncRun(join(root, 'resend'), 'bench_sync_resend', hubId, total, true);
  emit({ bench: 'sync', figure: 'sync_resend_readings_per_s', value: Math.round(resend.perS), ratioToRaw: +(resend.perS / rawPerS).toFixed(2), note: 'every session partly in Postgres already: all chunks through staging + ON CONFLICT DO NOTHING', chunkReadings: CHUNK, readings: total });
} finally {
  await server.close();
  await rm(root, { recursive: true, force: true });
}
