import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { MIGRATIONS, SCHEMA_VERSION, migrate } from '../../sync/migrations.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

const ALL_VERSIONS = MIGRATIONS.map((m) => m.version);
const TABLES = ['devices', 'gymhub_schema', 'hubs', 'models', 'readings', 'sessions'];

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(() => server.close());

async function withClients<T>(url: string, count: number, work: (clients: pg.Client[]) => Promise<T>): Promise<T> {
  const clients = Array.from({ length: count }, () => new pg.Client({ connectionString: url }));
  await Promise.all(clients.map((c) => c.connect()));
  try {
    return await work(clients);
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

async function tables(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
  return rows.map((r) => r.tablename as string);
}

test('migrate applies every step once: a second run changes nothing', async () => {
  const url = await server.createDatabase('migrate_twice');
  await withClients(url, 1, async ([client]) => {
    assert.deepEqual(await migrate(client!), ALL_VERSIONS);
    assert.deepEqual(await migrate(client!), []);
    assert.deepEqual(await migrate(client!), []);
    for (const table of TABLES) assert.ok((await tables(client!)).includes(table), table);
    const { rows } = await client!.query('SELECT version FROM gymhub_schema ORDER BY version');
    assert.deepEqual(rows.map((r) => r.version), ALL_VERSIONS);
    assert.equal(ALL_VERSIONS.at(-1), SCHEMA_VERSION);
  });
});

test('many hubs migrating an empty database at the same moment: one applies the steps, the others find them done', async () => {
  const url = await server.createDatabase('migrate_at_once');
  await withClients(url, 8, async (clients) => {
    const results = await Promise.all(clients.map((c) => migrate(c)));
    assert.equal(results.filter((applied) => applied.length > 0).length, 1, JSON.stringify(results));
    assert.deepEqual(results.find((applied) => applied.length > 0), ALL_VERSIONS);
    const { rows } = await clients[0]!.query('SELECT count(*)::int AS n FROM gymhub_schema');
    assert.equal(rows[0].n, ALL_VERSIONS.length);
    for (const table of TABLES) assert.ok((await tables(clients[0]!)).includes(table), table);
    // And again at once on the migrated database: nothing to do for anyone.
    assert.deepEqual(await Promise.all(clients.map((c) => migrate(c))), clients.map(() => []));
  });
});

test('a migration that fails leaves nothing behind, and the next migrate applies it whole', async () => {
  const url = await server.createDatabase('migrate_fails');
  await withClients(url, 2, async ([first, second]) => {
    // A table in the way makes the first step fail halfway.
    await second!.query('CREATE TABLE hubs (x int)');
    await assert.rejects(migrate(first!), /already exists/);
    assert.deepEqual(await tables(first!), ['hubs'], 'the failed step rolled back whole, its version table too');
    await second!.query('DROP TABLE hubs');
    assert.deepEqual(await migrate(first!), ALL_VERSIONS);
  });
});
