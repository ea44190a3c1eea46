import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, it } from 'node:test';
import { collectIterate, openStore, tempDir } from './store-helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/append-until-killed.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Acknowledged appends to see before the kill: enough for many compactions to have happened. */
const ACKS_BEFORE_KILL = 400;

let root: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  root = await tempDir();
});
after(async () => {
  await root.remove();
});

interface Ack {
  deviceId: string;
  firstTs: number;
  lastTs: number;
}

/** Runs the fixture until it has acknowledged `count` appends, then SIGKILLs it mid-stream. */
async function appendThenKill(dir: string, count: number): Promise<Ack[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  const acks: Ack[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    if (line === 'ready') continue;
    const [deviceId, firstTs, lastTs] = line.split(' ');
    acks.push({ deviceId, firstTs: Number(firstTs), lastTs: Number(lastTs) });
    if (acks.length === count) child.kill('SIGKILL');
  }
  const signal = await exited;
  assert.equal(signal, 'SIGKILL', `the fixture should have been killed, not exit by itself: ${stderr}`);
  assert.ok(acks.length >= count, `only ${acks.length} acknowledged appends: ${stderr}`);
  return acks;
}

it('keeps every acknowledged reading through kill -9, twice in a row', async () => {
  const dir = join(root.path, 'db');
  for (let round = 0; round < 2; round++) {
    const acks = await appendThenKill(dir, ACKS_BEFORE_KILL);
    const { store } = await openStore(dir, { blockSamples: 128 });
    const stats = store.stats();
    assert.ok(stats.blocks > 0, 'compactions happened before the kill');
    for (const deviceId of new Set(acks.map((a) => a.deviceId))) {
      const stored = new Set((await collectIterate(store.iterate(deviceId))).items.map((r) => r.ts));
      for (const ack of acks.filter((a) => a.deviceId === deviceId)) {
        for (let ts = ack.firstTs; ts <= ack.lastTs; ts += 10) assert.ok(stored.has(ts), `${deviceId} ${ts} was acknowledged but is missing (round ${round})`);
      }
    }
    const readable = (await Promise.all(store.devices().map(async (id) => (await collectIterate(store.iterate(id))).items.length))).reduce((a, b) => a + b, 0);
    assert.equal(stats.readings, readable, 'the persisted counters agree with the data');
    await store.close();
  }
});
