import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Level } from 'level';
import { PredictionStore } from '../../daemon/recognition/prediction-store.js';
import type { Prediction } from '../../daemon/sessions/types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { silent } from './helpers.js';

const CLASSES = ['bicep_curl', 'dead', 'rdl', 'row', 'shoulder_press', 'squat'];
const DAY_MS = 24 * 3600_000;

function prediction(deviceId: string, windowStart: number, fields: Partial<Prediction> = {}): Prediction {
  const probabilities: Record<string, number> = {};
  CLASSES.forEach((c, k) => (probabilities[c] = ((windowStart / 1280 + k) % 7) / 21));
  probabilities.rest = 0;
  return { deviceId, windowStart, windowEnd: windowStart + 2560, label: 'squat', confidence: 0.4375, probabilities, modelVersion: 'fv1-test', ...fields };
}

describe('PredictionStore', () => {
  let dir: string;
  let clock: FakeClock;
  let store: PredictionStore;
  const t0 = Date.UTC(2026, 0, 1);
  const open = async () => {
    store = new PredictionStore({ dir: join(dir, 'predictions'), log: silent, clock, retentionMs: DAY_MS });
    await store.open();
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gymhub-predictions-'));
    clock = new FakeClock(t0);
    await open();
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes behind: nothing until the flush interval or enough items, everything by list() and close()', async () => {
    store.add(prediction('a', t0));
    assert.equal(store.stats().pending, 1);
    clock.advance(100);
    await store.flush();
    assert.equal(store.stats().pending, 0);
    assert.equal(store.stats().written, 1);
    for (let i = 1; i < 600; i++) store.add(prediction('a', t0 + i * 1280));
    assert.ok(store.stats().pending < 500, 'a full buffer is flushed without waiting for the timer');
    const page = await store.list({ deviceId: 'a', limit: 10_000 });
    assert.equal(page.items.length, 600);
    assert.equal(store.stats().written, 600);
  });

  it('round-trips a prediction (probabilities in float32), keeps labels outside the probabilities, and survives a reopen', async () => {
    const p = prediction('b', t0 + 0.5, { sessionId: '01HZX3J8V9N2Q4R5S6T7U8V9W0', label: 'unknown', confidence: 0.2857142857 });
    const other = prediction('b', t0 + 1280.5, { modelVersion: 'fv1-other', probabilities: { squat: 1, rest: 0 }, label: 'squat', confidence: 1 });
    store.add(p);
    store.add(other);
    await store.close();
    await open();
    const [a, b] = (await store.list({ deviceId: 'b', limit: 10 })).items;
    assert.equal(a.windowStart, p.windowStart);
    assert.equal(a.windowEnd, p.windowEnd);
    assert.equal(a.sessionId, p.sessionId);
    assert.equal(a.label, 'unknown');
    assert.equal(a.modelVersion, 'fv1-test');
    assert.deepEqual(Object.keys(a.probabilities), Object.keys(p.probabilities));
    for (const k of Object.keys(p.probabilities)) assert.ok(Math.abs(a.probabilities[k] - p.probabilities[k]) < 1e-7, k);
    assert.ok(Math.abs(a.confidence - p.confidence) < 1e-7);
    assert.deepEqual(b, { ...other, windowStart: other.windowStart });
  });

  it('lists a session by its own range, every device merged by time, with cursors that resume exactly', async () => {
    const base = t0 + 10 * DAY_MS;
    clock.advance(base - clock.now());
    for (let i = 0; i < 30; i++) {
      store.add(prediction('c', base + i * 1000, i >= 10 && i < 20 ? { sessionId: 'S-c' } : {}));
      store.add(prediction('d', base + i * 1000, { sessionId: 'S-d' }));
      if (i % 3 === 0) store.add(prediction('e', base + i * 1000 + 1));
    }
    const session = await store.list({ sessionId: 'S-c', limit: 100 });
    assert.deepEqual(session.items.map((p) => p.windowStart - base), Array.from({ length: 10 }, (_, k) => (k + 10) * 1000));
    assert.deepEqual((await store.list({ sessionId: 'S-c', deviceId: 'd', limit: 100 })).items, []);
    assert.equal((await store.list({ sessionId: 'S-c', from: base + 15_000, limit: 100 })).items.length, 5);

    const merged: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.list({ from: base, limit: 4, cursor });
      merged.push(...page.items.map((p) => `${p.windowStart - base}:${p.deviceId}`));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    const expected: string[] = [];
    for (let i = 0; i < 30; i++) {
      expected.push(`${i * 1000}:c`, `${i * 1000}:d`);
      if (i % 3 === 0) expected.push(`${i * 1000 + 1}:e`);
    }
    assert.deepEqual(merged, expected);
    assert.equal(pages, Math.ceil(expected.length / 4));
    await assert.rejects(store.list({ limit: 5, cursor: 'not-a-cursor' }), { code: 'bad_cursor' });
  });

  it('deletes predictions older than the retention, and the sessions wholly before it', async () => {
    const before = (await store.list({ deviceId: 'c', limit: 10_000 })).items.length;
    assert.ok(before > 0);
    clock.advance(DAY_MS + 15_000);
    await store.runRetention();
    const left = (await store.list({ deviceId: 'c', limit: 10_000 })).items;
    assert.ok(left.length > 0 && left.length < before, `${left.length} of ${before}`);
    assert.ok(left.every((p) => p.windowStart >= clock.now() - DAY_MS));
    assert.equal((await store.list({ deviceId: 'a', limit: 10 })).items.length, 0);
    clock.advance(DAY_MS);
    await store.runRetention();
    assert.equal((await store.list({ limit: 10 })).items.length, 0);
    assert.equal((await store.list({ sessionId: 'S-d', limit: 10 })).items.length, 0);
  });

  it('keeps values compact: under 110 bytes of key and value for a six-class prediction with a session', async () => {
    store.add(prediction('f', clock.now(), { sessionId: '01HZX3J8V9N2Q4R5S6T7U8V9W0' }));
    await store.close();
    const db = new Level<string, Buffer>(join(dir, 'predictions'), { valueEncoding: 'buffer' });
    const sizes: number[] = [];
    for await (const [key, value] of db.iterator({ gt: 'p!f!', lt: 'p!f"' })) sizes.push(key.length + value.length);
    await db.close();
    await open();
    assert.deepEqual(sizes.length, 1);
    assert.ok(sizes[0] <= 110, `${sizes[0]} bytes`);
  });
});
