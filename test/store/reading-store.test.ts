import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { READ_LIMIT_MAX } from '../../daemon/store/reading-store.js';
import type { Reading } from '../../drivers/reading.js';
import { T0, collectIterate, openStore, readAllPages, reading, readings, tempDir } from './store-helpers.js';

const byTsThenDevice = (a: Reading, b: Reading) => a.ts - b.ts || (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0);

let root: Awaited<ReturnType<typeof tempDir>>;
let dirCount = 0;
const freshDir = () => join(root.path, `db-${dirCount++}`);

before(async () => {
  root = await tempDir();
});
after(async () => {
  await root.remove();
});

describe('append and read', () => {
  it('gives back what was appended, float32 values as the decimals that were sent', async () => {
    const { store } = await openStore(freshDir());
    const sent: Reading[] = [
      { deviceId: 'ESP32_001', ts: T0, seq: 1200, accel: [0.23, -0.01, 9.85], gyro: [0.01, 0.01, 0] },
      { deviceId: 'ESP32_001', ts: T0 + 10, accel: [1.414, -2.5, 3.333333], gyro: [-0.001, 39.99, 1e-4], mag: [1617, 1119, -14421], temp: 26.82 },
      { deviceId: 'ESP32_001', ts: T0 + 20.5, seq: 0, accel: [0, 0, 0], gyro: [0, 0, 0], temp: -3.5 },
    ];
    await store.append(sent);
    const page = await store.read({ deviceId: 'ESP32_001', limit: 10 });
    assert.deepEqual(page, { items: sent, nextCursor: null });
    assert.deepEqual(store.latest('ESP32_001'), sent[2]);
    await store.close();
  });

  it('pages one device through many blocks and its tail with a cursor, oldest first', async () => {
    const { store } = await openStore(freshDir(), { blockSamples: 64 });
    const ids = ['A', 'B', 'C'];
    for (let i = 0; i < 1000; i += 10) await Promise.all(ids.map((id) => store.append(readings(id, i, 10))));
    assert.ok(store.stats().blocks >= 3 * 10, `blocks ${store.stats().blocks}`);
    assert.ok(store.stats().journalReadings > 0, 'some readings are still in the tail');
    const { items, pages } = await readAllPages(store, { deviceId: 'B', limit: 77 });
    assert.equal(pages, Math.ceil(1000 / 77));
    assert.deepEqual(items, readings('B', 0, 1000));
    await store.close();
  });

  it('merges all devices by (ts, deviceId) without a deviceId', async () => {
    const { store } = await openStore(freshDir(), { blockSamples: 50 });
    const expected: Reading[] = [];
    for (const [n, id] of ['zeta', 'alpha', 'mid.dle', 'b-2'].entries()) {
      const mine = readings(id, n * 7, 400 - n * 50);
      expected.push(...mine);
      for (let i = 0; i < mine.length; i += 13) await store.append(mine.slice(i, i + 13));
    }
    expected.sort(byTsThenDevice);
    const { items, pages } = await readAllPages(store, { limit: 101 });
    assert.equal(pages, Math.ceil(expected.length / 101));
    assert.deepEqual(items, expected);
    await store.close();
  });

  it('pages through many readings that share one timestamp without losing or repeating any', async () => {
    const { store } = await openStore(freshDir(), { blockSamples: 16 });
    const same = Array.from({ length: 50 }, (_, i) => reading('A', 0, { seq: i }));
    const other = Array.from({ length: 20 }, (_, i) => reading('B', 0, { seq: 100 + i }));
    for (let i = 0; i < 50; i += 5) {
      await store.append(same.slice(i, i + 5));
      if (i < 20) await store.append(other.slice(i, i + 5));
    }
    await store.append(other.slice(20));
    const one = await readAllPages(store, { deviceId: 'A', limit: 7 });
    assert.deepEqual(one.items.map((r) => r.seq), same.map((r) => r.seq));
    const all = await readAllPages(store, { limit: 7 });
    assert.deepEqual(all.items.map((r) => r.seq), [...same, ...other].map((r) => r.seq));
    await store.close();
  });

  it('reads a time range: from inclusive, to exclusive, across blocks and the tail', async () => {
    const { store } = await openStore(freshDir(), { blockSamples: 32 });
    await store.append(readings('A', 0, 500));
    for (let i = 500; i < 520; i++) await store.append([reading('A', i)]);
    const page = await store.read({ deviceId: 'A', from: T0 + 1000, to: T0 + 5100, limit: 10_000 });
    assert.deepEqual(page.items, readings('A', 100, 410));
    const tailOnly = await store.read({ deviceId: 'A', from: T0 + 5050, limit: 10_000 });
    assert.deepEqual(tailOnly.items, readings('A', 505, 15));
    assert.deepEqual((await store.read({ deviceId: 'A', from: T0 + 10_000_000, limit: 5 })).items, []);
    assert.deepEqual((await store.read({ deviceId: 'nobody', limit: 5 })).items, []);
    const paged = await readAllPages(store, { deviceId: 'A', from: T0 + 1000, to: T0 + 5100, limit: 100 });
    assert.deepEqual(paged.items, readings('A', 100, 410));
    await store.close();
  });

  it('iterates a range in chunks', async () => {
    const { store } = await openStore(freshDir(), { blockSamples: 100 });
    for (let i = 0; i < 2000; i += 40) await store.append(readings('A', i, 40));
    const { items, chunks } = await collectIterate(store.iterate('A', T0 + 5, T0 + 19_000));
    assert.deepEqual(items, readings('A', 1, 1899));
    assert.ok(chunks >= 10, `chunks ${chunks}`);
    assert.equal((await collectIterate(store.iterate('A'))).items.length, 2000);
    await store.close();
  });

  it('sorts readings that arrive out of time order, also across blocks that overlap', async () => {
    const { store } = await openStore(freshDir(), { blockSamples: 20 });
    const all = readings('A', 0, 300);
    const shuffled = [...all.slice(200), ...all.slice(0, 100).reverse(), ...all.slice(100, 200)];
    for (let i = 0; i < shuffled.length; i += 15) await store.append(shuffled.slice(i, i + 15));
    assert.deepEqual((await readAllPages(store, { deviceId: 'A', limit: 33 })).items, all);
    assert.deepEqual((await collectIterate(store.iterate('A', T0 + 950, T0 + 2050))).items, all.slice(95, 205));
    assert.deepEqual(store.latest('A'), all[299]);
    await store.close();
  });

  it('caps the page size and refuses a cursor it did not make', async () => {
    const { store } = await openStore(freshDir());
    await store.append(readings('A', 0, READ_LIMIT_MAX + 5));
    const page = await store.read({ deviceId: 'A', limit: 1_000_000 });
    assert.equal(page.items.length, READ_LIMIT_MAX);
    assert.ok(page.nextCursor);
    await assert.rejects(store.read({ limit: 5, cursor: 'garbage' }), { code: 'bad_cursor' });
    await store.close();
  });

  it('sums up a range for /readings/stats', async () => {
    const { store } = await openStore(freshDir(), { blockSamples: 30 });
    const sent = readings('A', 0, 100).map((r, i) => (i % 10 === 0 ? { ...r, mag: [i, 2 * i, -i || 0] as Reading['accel'], temp: 20 + i / 10 } : r));
    await store.append(sent);
    const inRange = sent.slice(10, 60);
    const stats = await store.rangeStats('A', T0 + 100, T0 + 600);
    assert.equal(stats.count, 50);
    assert.equal(stats.firstTs, T0 + 100);
    assert.equal(stats.lastTs, T0 + 590);
    const ax = inRange.map((r) => r.accel[0]);
    assert.equal(stats.accel?.x.min, Math.min(...ax));
    assert.equal(stats.accel?.x.max, Math.max(...ax));
    assert.ok(Math.abs(stats.accel!.x.mean - ax.reduce((a, b) => a + b, 0) / ax.length) < 1e-9);
    assert.deepEqual(stats.temp, { min: 21, max: 25, mean: 23 });
    assert.equal(stats.mag?.y.max, 100);
    const empty = await store.rangeStats('A', T0 + 1e9);
    assert.deepEqual(empty, { deviceId: 'A', from: T0 + 1e9, to: null, count: 0, firstTs: null, lastTs: null });
    await store.close();
  });

  it('holds many devices', async () => {
    const { store } = await openStore(freshDir(), { blockSamples: 10 });
    const ids = Array.from({ length: 200 }, (_, i) => `dev-${String(i).padStart(3, '0')}`);
    await Promise.all(ids.map((id, n) => store.append(readings(id, n, 25))));
    assert.deepEqual(store.devices(), ids);
    assert.equal(store.latestAll().length, 200);
    assert.deepEqual(store.latestAll().map((r) => r.deviceId), ids);
    const { items } = await readAllPages(store, { limit: 999 });
    assert.equal(items.length, 200 * 25);
    assert.deepEqual(items, [...items].sort(byTsThenDevice));
    await store.close();
  });
});

describe('restart', () => {
  it('replays the journal and knows the newest reading of every device after a reopen', async () => {
    const dir = freshDir();
    const first = await openStore(dir, { blockSamples: 100 });
    await first.store.append(readings('inBlocks', 0, 250));
    for (let i = 0; i < 30; i += 3) await first.store.append([...readings('inTail', i, 3), reading('inBlocks', 250 + i)]);
    const before = first.store.stats();
    assert.ok(before.journalEntries > 0 && before.journalReadings > 0);
    await first.store.close();

    const second = await openStore(dir, { blockSamples: 100 });
    const after = second.store.stats();
    assert.equal(after.journalReadings, before.journalReadings);
    assert.equal(after.readings, 290);
    assert.deepEqual(second.store.latest('inBlocks'), reading('inBlocks', 277));
    assert.deepEqual(second.store.latest('inTail'), reading('inTail', 29));
    assert.deepEqual(second.store.devices(), ['inBlocks', 'inTail']);
    assert.deepEqual((await readAllPages(second.store, { deviceId: 'inTail', limit: 7 })).items, readings('inTail', 0, 30));
    const blocksDevice = (await readAllPages(second.store, { deviceId: 'inBlocks', limit: 1000 })).items;
    assert.deepEqual(blocksDevice, [...readings('inBlocks', 0, 250), ...Array.from({ length: 10 }, (_, k) => reading('inBlocks', 250 + 3 * k))]);

    // Filling the tails compacts them; journal entries go once no device needs them.
    await second.store.append([...readings('inTail', 30, 100), ...readings('inBlocks', 300, 100)]);
    assert.equal(second.store.stats().journalEntries, 0);
    assert.equal(second.store.stats().journalReadings, 0);
    await second.store.close();

    const third = await openStore(dir, { blockSamples: 100 });
    assert.equal(third.store.stats().readings, 490);
    assert.deepEqual(third.store.latest('inTail'), reading('inTail', 129));
    assert.equal((await readAllPages(third.store, { limit: 1000 })).items.length, 490);
    await third.store.close();
  });

  it('compacts a tail that waited longer than its maximum age', async () => {
    const dir = freshDir();
    const { store, clock } = await openStore(dir, { blockSamples: 256, tailMaxAgeMs: 30_000 });
    await store.append(readings('slow', 0, 5));
    clock.advance(20_000);
    await store.flush();
    assert.equal(store.stats().blocks, 0);
    clock.advance(15_000);
    await store.flush();
    assert.equal(store.stats().blocks, 1);
    assert.equal(store.stats().journalEntries, 0);
    assert.deepEqual((await store.read({ deviceId: 'slow', limit: 10 })).items, readings('slow', 0, 5));
    await store.close();
  });
});

describe('concurrency and lifecycle', () => {
  it('gives each reader one consistent view while compactions move readings from the tail to blocks', async () => {
    const { store } = await openStore(freshDir(), { blockSamples: 25 });
    for (let i = 0; i < 100; i += 25) await store.append(readings('A', i, 25));
    await store.append(readings('A', 100, 20));
    assert.equal(store.stats().journalReadings, 20);
    const iterator = store.iterate('A')[Symbol.asyncIterator]();
    const seen: Reading[] = [];
    const first = await iterator.next();
    if (!first.done) seen.push(...first.value);
    // Compacts the tail the iterator captured into new blocks, and replaces the tail.
    await store.append(readings('A', 120, 40));
    assert.equal(store.stats().journalReadings, 0);
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) seen.push(...next.value);
    assert.ok(seen.length > first.value!.length, 'the iterator was mid-way when the tail was compacted');
    assert.deepEqual(seen, readings('A', 0, 120));

    const appends: Promise<void>[] = [];
    const reads: Promise<Reading[]>[] = [];
    for (let i = 60; i < 1060; i += 10) {
      appends.push(store.append(readings('A', i, 10)));
      if (i % 50 === 0) reads.push(store.read({ deviceId: 'A', limit: 10_000 }).then((page) => page.items));
    }
    await Promise.all(appends);
    for (const items of await Promise.all(reads)) {
      // Every read is a prefix of the stream: in order, nothing twice, nothing skipped.
      assert.deepEqual(items, readings('A', 0, items.length));
    }
    await store.close();
  });

  it('writes what was appended before close, then refuses', async () => {
    const dir = freshDir();
    const { store } = await openStore(dir);
    const pending = Array.from({ length: 50 }, (_, i) => store.append(readings('A', i * 10, 10)));
    const closing = store.close();
    await Promise.all(pending);
    await closing;
    await store.close();
    await assert.rejects(store.append(readings('A', 999, 1)), { code: 'store_closed' });
    await assert.rejects(store.read({ limit: 1 }), { code: 'store_closed' });
    const reopened = await openStore(dir);
    assert.equal(reopened.store.stats().readings, 500);
    await reopened.store.close();
  });

  it('refuses a reading it cannot hold without affecting other appends', async () => {
    const { store } = await openStore(freshDir());
    const good = store.append(readings('A', 0, 5));
    await assert.rejects(store.append([reading('bad id!', 0)]), { code: 'invalid_reading' });
    await assert.rejects(store.append([reading('A', 1, { ts: Number.NaN })]), { code: 'invalid_reading' });
    await good;
    assert.equal(store.stats().readings, 5);
    await store.close();
  });
});
