import type pg from 'pg';

/**
 * The cloud schema (SPEC section 9), as numbered steps. A step is never edited once released: a change is a
 * new step. Times are milliseconds since the epoch (bigint), as everywhere in gymhub.
 *
 * readings are keyed by (hub_id, device_id, ts, seq) — what a reading is, not where it sat in an upload — so
 * a chunk sent twice (after a cut, a Postgres restart or a hub kill) cannot duplicate: `seq` is -1 when the
 * device sent none. A reading belongs to the session whose time range holds it; the label lives on the
 * session row only, so a relabel rewrites one row.
 */
export const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'hubs, devices, sessions, readings, models',
    sql: `
      CREATE TABLE hubs (
        hub_id        text PRIMARY KEY,
        first_seen_at bigint NOT NULL,
        last_seen_at  bigint NOT NULL,
        version       text
      );
      CREATE TABLE devices (
        hub_id        text NOT NULL REFERENCES hubs,
        device_id     text NOT NULL,
        first_seen_at bigint NOT NULL,
        last_seen_at  bigint NOT NULL,
        PRIMARY KEY (hub_id, device_id)
      );
      CREATE TABLE sessions (
        hub_id          text NOT NULL REFERENCES hubs,
        session_id      text NOT NULL,
        device_id       text NOT NULL,
        label           text NOT NULL,
        label_version   integer NOT NULL,
        athlete_id      text,
        candidates      text[],
        started_at      bigint NOT NULL,
        ended_at        bigint NOT NULL,
        notes           text,
        reps            integer,
        predicted_label text,
        reading_count   integer NOT NULL,
        synced_at       bigint NOT NULL,
        PRIMARY KEY (hub_id, session_id),
        FOREIGN KEY (hub_id, device_id) REFERENCES devices
      );
      CREATE INDEX sessions_label ON sessions (label);
      CREATE TABLE readings (
        hub_id     text NOT NULL,
        device_id  text NOT NULL,
        ts         bigint NOT NULL,
        seq        bigint NOT NULL,
        session_id text NOT NULL,
        ax real NOT NULL, ay real NOT NULL, az real NOT NULL,
        gx real NOT NULL, gy real NOT NULL, gz real NOT NULL,
        mx real, my real, mz real,
        temp real,
        PRIMARY KEY (hub_id, device_id, ts, seq)
      );
      CREATE INDEX readings_session ON readings (hub_id, session_id);
      CREATE TABLE models (
        version         text PRIMARY KEY,
        created_at      bigint NOT NULL,
        feature_version text NOT NULL,
        classes         text[] NOT NULL,
        metrics         jsonb NOT NULL,
        trained_on      jsonb NOT NULL,
        sha256          text NOT NULL,
        model           jsonb NOT NULL,
        published       boolean NOT NULL DEFAULT false,
        published_at    bigint
      );
      CREATE INDEX models_published ON models (published_at DESC) WHERE published;
    `,
  },
];

/** Any fixed number: every hub and the retrain job take this lock to migrate, so only one migrates at once. */
const MIGRATION_LOCK_KEY = 0x67796d68; // 'gymh'

/**
 * Brings the schema up to date: idempotent, and safe when many hubs start at once (a transaction-scoped
 * advisory lock serialises them; the ones that wait find the work done). Returns the versions it applied.
 */
export async function migrate(client: pg.ClientBase): Promise<number[]> {
  const applied: number[] = [];
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS gymhub_schema (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM gymhub_schema');
    const done = new Set(rows.map((r) => r.version));
    for (const step of MIGRATIONS) {
      if (done.has(step.version)) continue;
      await client.query(step.sql);
      await client.query('INSERT INTO gymhub_schema (version, name) VALUES ($1, $2)', [step.version, step.name]);
      applied.push(step.version);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  return applied;
}

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
