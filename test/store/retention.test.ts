import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, rmdir, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { ReadingStore, type ReadingStoreOptions } from '../../daemon/store/reading-store.js';
import type { RetentionPolicy } from '../../daemon/store/retention.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { T0, collectIterate, readings, tempDir } from './store-helpers.js';

const MAX_BYTES = 100_000;

let root: Awaited<ReturnType<typeof tempDir>>;
let dirCount = 0;
before(async () => {
  root = await tempDir();
});
after(async () => {
  await root.remove();
});

interface LogLine {
  level: number;
  msg: string;
}

async function openLogged(options: Partial<ReadingStoreOptions> = {}, dir = join(root.path, `db-${dirCount++}`)) {
  const lines: LogLine[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
  const clock = new FakeClock();
  const store = new ReadingStore({ dir, log, clock, maxBytes: MAX_BYTES, ...options });
  await store.open();
  return { store, clock, lines, dir };
}

/** Appends device readings in blocks of 256 (each append compacts at once) from reading `from` on. */
async function fill(store: ReadingStore, deviceId: string, from: number, blocks: number): Promise<void> {
  for (let b = 0; b < blocks; b++) await store.append(readings(deviceId, from + b * 256, 256));
}

async function stored(store: ReadingStore, deviceId: string): Promise<number[]> {
  return (await collectIterate(store.iterate(deviceId))).items.map((r) => r.seq!);
}

describe('retention', () => {
  it('deletes the oldest blocks of all devices once over maxBytes, and keeps its counters right', async () => {
    const filled = await openLogged({ maxBytes: 1e9 });
    await fill(filled.store, 'A', 0, 10);
    await fill(filled.store, 'B', 0, 10);
    await filled.store.close();
    const { store, dir } = await openLogged({}, filled.dir);
    assert.ok(store.stats().full, 'over maxBytes');
    await store.runRetention();
    const stats = store.stats();
    assert.ok(stats.bytes <= MAX_BYTES * 0.9, `bytes ${stats.bytes}`);
    const a = await stored(store, 'A');
    const b = await stored(store, 'B');
    // Both devices' blocks are equally old, block by block: the oldest of each went first.
    assert.equal(a.at(-1), 2559);
    assert.equal(b.at(-1), 2559);
    assert.ok(a[0] > 0 && b[0] > 0);
    assert.ok(Math.abs(a.length - b.length) <= 256);
    assert.equal(stats.readings, a.length + b.length);
    await store.close();

    const reopened = await openLogged({}, dir);
    assert.equal(reopened.store.stats().bytes, stats.bytes);
    assert.equal(reopened.store.stats().readings, stats.readings);
    await reopened.store.close();
  });

  it('starts by itself after an append crosses maxBytes', async () => {
    const { store } = await openLogged();
    await fill(store, 'A', 0, 14);
    await store.runRetention();
    assert.ok(store.stats().bytes <= MAX_BYTES, `bytes ${store.stats().bytes}`);
    assert.ok((await stored(store, 'A'))[0] > 0);
    await store.close();
  });

  it('keeps protected readings, refuses appends at hardMaxBytes, loudly, and recovers when space returns', async () => {
    let protect = true;
    const asked: Array<[string, number, number]> = [];
    const policy: RetentionPolicy = {
      isDeletable: async (deviceId, fromTs, toTs) => {
        asked.push([deviceId, fromTs, toTs]);
        return !(protect && deviceId === 'labelled');
      },
    };
    const { store, clock, lines } = await openLogged({ retention: policy });
    await fill(store, 'free', 0, 3);
    let next = 0;
    const fillUntilRefused = async (): Promise<unknown> => {
      for (let n = 0; n < 100; n++) {
        try {
          await store.append(readings('labelled', next, 256));
          next += 256;
        } catch (err) {
          return err;
        }
      }
      return undefined;
    };
    const refused = await fillUntilRefused();
    assert.equal((refused as { code?: string }).code, 'store_full');
    assert.equal((refused as { statusCode?: number }).statusCode, 507);
    // Whatever retention could still free is gone now; fill up to the limit again.
    await store.runRetention();
    assert.equal(((await fillUntilRefused()) as { code?: string }).code, 'store_full');
    await store.runRetention();
    const stats = store.stats();
    assert.ok(stats.overHardLimit && stats.full);
    assert.ok(stats.bytes >= MAX_BYTES * 1.5);
    assert.deepEqual(await stored(store, 'free'), [], 'the unprotected readings went first');
    assert.equal((await stored(store, 'labelled')).length, next, 'nothing protected was deleted');
    assert.ok(asked.some(([deviceId, fromTs, toTs]) => deviceId === 'labelled' && fromTs === T0 && toTs === T0 + 255 * 10));

    await assert.rejects(store.append(readings('other', 0, 1)), { code: 'store_full' });
    const errors = () => lines.filter((l) => l.level === 50 && /hardMaxBytes/.test(l.msg)).length;
    assert.equal(errors(), 1, 'logged once a minute, not per refused append');
    clock.advance(60_000);
    await store.runRetention();
    assert.equal(errors(), 2);

    // The sessions layer syncs the labelled session: its readings may go now.
    protect = false;
    clock.advance(60_000);
    await store.runRetention();
    assert.ok(!store.stats().overHardLimit && store.stats().bytes <= MAX_BYTES * 0.9, `bytes ${store.stats().bytes}`);
    await store.append(readings('other', 0, 10));
    assert.ok(lines.some((l) => l.level === 30 && /below hardMaxBytes again/.test(l.msg)));
    assert.deepEqual(await stored(store, 'other'), readings('other', 0, 10).map((r) => r.seq));
    await store.close();
  });

  it('treats a failing policy as protecting', async () => {
    const { store, lines } = await openLogged({ retention: { isDeletable: () => Promise.reject(new Error('sessions db down')) } });
    await fill(store, 'A', 0, 14);
    const result = await store.runRetention();
    assert.equal(result.deletedBlocks, 0);
    assert.equal(result.reachedTarget, false);
    assert.equal((await stored(store, 'A')).length, 14 * 256);
    assert.ok(lines.some((l) => l.level === 40 && /retention policy failed/.test(l.msg)));
    await store.close();
  });
});

/** A tmpfs of a few MB to fill up for real; needs root (mount), else the test is skipped. */
async function smallDisk(): Promise<{ path: string; release: () => Promise<void> } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const path = await mkdtemp(join(tmpdir(), 'gymhub-full-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', path], { stdio: 'ignore' });
  } catch {
    await rmdir(path);
    return undefined;
  }
  return {
    path,
    release: async () => {
      execFileSync('umount', [path]);
      await rmdir(path);
    },
  };
}

describe('disk full', () => {
  it('refuses appends with StoreFullError on ENOSPC, loses nothing acknowledged, and recovers when space returns', async (t) => {
    const disk = await smallDisk();
    if (!disk) {
      t.skip('needs root to mount a small tmpfs');
      return;
    }
    try {
      const { store, clock, lines } = await openLogged({ maxBytes: 1e12 }, join(disk.path, 'db'));
      const free = await statfs(disk.path);
      await writeFile(join(disk.path, 'filler'), Buffer.alloc(free.bavail * free.bsize - 400_000));
      let acknowledged = 0;
      let refused: unknown;
      while (acknowledged < 1_000_000) {
        try {
          // Random values: LevelDB's compression must not make room.
          await store.append(readings('A', acknowledged, 100).map((r) => ({ ...r, accel: [Math.random(), Math.random(), Math.random()] })));
          acknowledged += 100;
        } catch (err) {
          refused = err;
          break;
        }
      }
      assert.equal((refused as { code?: string }).code, 'store_full', String(refused));
      assert.ok(acknowledged > 0);
      assert.match(store.stats().writeError ?? '', /disk is full/);
      assert.ok(lines.some((l) => l.level === 50 && /write failed/.test(l.msg)));
      await assert.rejects(store.append(readings('A', acknowledged, 1)), { code: 'store_full' });

      await rm(join(disk.path, 'filler'));
      clock.advance(5_000);
      await store.append(readings('A', acknowledged, 100));
      acknowledged += 100;
      assert.equal(store.stats().writeError, null);
      const seqs = await stored(store, 'A');
      for (let i = 0; i < acknowledged; i++) assert.ok(seqs.includes(i), `acknowledged reading ${i} missing`);
      await store.close();

      const reopened = await openLogged({ maxBytes: 1e12 }, join(disk.path, 'db'));
      assert.ok((await stored(reopened.store, 'A')).length >= acknowledged);
      await reopened.store.close();
    } finally {
      await disk.release();
    }
  });
});
