import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';

export interface TestPostgres {
  /** postgres://... on 127.0.0.1, with a password so redaction can be tested. */
  url: string;
  /** False for DATABASE_URL, which the tests cannot stop or restart. */
  readonly canRestart: boolean;
  /** A fresh empty database on this server; its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server fast (open connections are cut), as a crash or a network cut would look to clients. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export const TEST_PG_PASSWORD = 'pg-secret-4f1c9a';
const USER = 'gymhub';
const START_TIMEOUT_MS = 30_000;

/** The machine's PostgreSQL binaries (Debian keeps them out of PATH), newest version first. */
function findBinDir(): string | undefined {
  const fromEnv = process.env.GYMHUB_PG_BIN;
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? path.join(root, versions[0]!, 'bin') : undefined;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * A PostgreSQL server of the test's own: initdb into a temporary directory and `postgres` on 127.0.0.1 at a
 * free port (as the `postgres` system user when the tests run as root, which initdb refuses). When
 * DATABASE_URL is set, that server is used instead and each test gets its own database on it.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const external = process.env.DATABASE_URL;
  if (external) return externalPostgres(external);

  const bin = findBinDir();
  if (!bin) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql (apt-get install postgresql) and DATABASE_URL unset');
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(path.join(tmpdir(), 'gymhub-pg-'));
  chmodSync(dir, 0o777);
  const dataDir = path.join(dir, 'data');
  const pwFile = path.join(dir, 'pw');
  const run = (cmd: string, args: string[]) => (asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]) as [string, string[]];

  spawnSync('sh', ['-c', `umask 077; printf %s '${TEST_PG_PASSWORD}' > '${pwFile}'`]);
  if (asRoot) spawnSync('chown', ['postgres', pwFile]);
  const [initCmd, initArgs] = run(path.join(bin, 'initdb'), ['-D', dataDir, '-U', USER, '--pwfile', pwFile, '-A', 'scram-sha-256', '-E', 'UTF8', '--no-sync']);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);

  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const [cmd, args] = run(path.join(bin, 'postgres'), [
      '-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', dir,
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
    ]);
    const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let log = '';
    proc.stderr!.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`postgres did not start:\n${log}`)), START_TIMEOUT_MS);
      const onData = (chunk: string) => {
        log += chunk;
        if (log.includes('ready to accept connections')) {
          clearTimeout(timer);
          proc.stderr!.off('data', onData);
          proc.stderr!.resume();
          resolve();
        }
      };
      proc.stderr!.on('data', onData);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`postgres exited with ${code}:\n${log}`));
      });
    });
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    // SIGINT is the postmaster's "fast shutdown": clients are disconnected at once, the data is kept. It goes
    // to the postmaster itself (its pid heads postmaster.pid), because runuser does not pass SIGINT on.
    const pidFile = path.join(dataDir, 'postmaster.pid');
    if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGINT');
    else proc.kill('SIGINT');
    await exited;
  };

  await start();
  const url = `postgres://${USER}:${TEST_PG_PASSWORD}@127.0.0.1:${port}/postgres`;
  return {
    url,
    canRestart: true,
    createDatabase: (name) => createDatabase(url, name),
    stop,
    start,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function createDatabase(adminUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

function externalPostgres(url: string): TestPostgres {
  const cannot = async () => {
    throw new Error('DATABASE_URL points at a server the tests cannot stop or start');
  };
  return {
    url,
    canRestart: false,
    createDatabase: (name) => createDatabase(url, name),
    stop: cannot,
    start: cannot,
    close: async () => undefined,
  };
}
