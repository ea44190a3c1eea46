import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Reading } from '../../drivers/reading.js';
import { groupByDevice } from '../../daemon/store/append-groups.js';
import { planCommit } from '../../daemon/store/commit-plan.js';
import { StoreState } from '../../daemon/store/store-state.js';
import { openStore, readAllPages, readings, tempDir } from './store-helpers.js';

const BLOCK_SAMPLES = 256;

function batch(deviceId: string, first: number, count: number): Reading[] {
  return Array.from({ length: count }, (_, i) => ({
    deviceId,
    ts: 1_700_000_000_000 + (first + i) * 10,
    seq: first + i,
    accel: [0, 0, 9.81],
    gyro: [0.01, 0, 0],
  }));
}

function commit(state: StoreState, readings: Reading[]): void {
  planCommit(state, [{ kind: 'append', groups: groupByDevice(readings), count: readings.length }], { blockSamples: BLOCK_SAMPLES, now: 0 }).apply();
}

test('a device\'s tail keeps one set of columns from block to block; readers get copies', () => {
  const state = new StoreState();
  let sample = 0;
  commit(state, batch('dev-1', sample, 10));
  sample += 10;
  const tail = state.tails.get('dev-1')!;
  const columns = tail.columns;
  const buffers = [columns.ts, columns.imu, columns.mag, columns.temp, columns.seq, columns.present];
  assert.ok(columns.capacity >= BLOCK_SAMPLES);

  // 100 Hz in batches of 10 until the block is due: the tail fills without ever reallocating.
  while (sample + 10 < BLOCK_SAMPLES) {
    commit(state, batch('dev-1', sample, 10));
    sample += 10;
    assert.equal(state.tails.get('dev-1'), tail);
    assert.deepEqual([columns.ts, columns.imu, columns.mag, columns.temp, columns.seq, columns.present], buffers, `after ${sample} readings`);
  }
  assert.equal(columns.length, sample);
  assert.deepEqual(Array.from(columns.seq.subarray(0, sample)), Array.from({ length: sample }, (_, i) => i));

  const view = state.tailView('dev-1')!;
  assert.equal(view.length, sample);
  assert.notEqual(view.columns.ts, columns.ts, 'a reader\'s view is a copy');

  // The batch that reaches the block size compacts the tail into a block and empties it; the next batch
  // goes into the same arrays, and the view taken before still reads what it saw.
  commit(state, batch('dev-1', sample, 10));
  assert.equal(state.meta.blocks, 1);
  assert.equal(state.tails.get('dev-1'), tail);
  assert.equal(columns.length, 0);
  assert.equal(state.tailView('dev-1'), undefined);
  commit(state, batch('dev-1', 1000, 10));
  assert.deepEqual([columns.ts, columns.imu, columns.mag, columns.temp, columns.seq, columns.present], buffers);
  assert.deepEqual(Array.from(columns.seq.subarray(0, columns.length)), Array.from({ length: 10 }, (_, i) => 1000 + i));
  assert.deepEqual(Array.from(view.columns.seq.subarray(0, view.length)), Array.from({ length: sample }, (_, i) => i));
  assert.deepEqual(tail.journalSeqs.length, 1, 'only the entry of the new readings');
});

test('the store reads right across reused tails, and lets go of a tail that stays empty', async (t) => {
  const dir = await tempDir('gymhub-tail-');
  t.after(() => dir.remove());
  const tailMaxAgeMs = 30_000;
  const { store, clock } = await openStore(dir.path, { blockSamples: 64, tailMaxAgeMs });
  t.after(() => store.close());
  const tails = (store as unknown as { state: StoreState }).state.tails;
  for (let i = 0; i < 200; i += 10) await store.append(readings('dev-1', i, 10));
  // Batches of 10 with blocks due at 64: every 7th batch compacts the tail with it (70 readings a block).
  assert.equal(store.stats().blocks, 2);
  assert.equal(tails.get('dev-1')!.columns.length, 60);
  assert.deepEqual((await readAllPages(store, { deviceId: 'dev-1', limit: 33 })).items, readings('dev-1', 0, 200));

  // The device goes quiet just after a compaction: its empty tail goes at the next check past tailMaxAgeMs.
  await store.append(readings('dev-1', 200, 10));
  assert.equal(store.stats().blocks, 3);
  assert.equal(tails.get('dev-1')!.columns.length, 0);
  clock.advance(tailMaxAgeMs - 5_000);
  assert.equal(tails.has('dev-1'), true);
  clock.advance(10_000);
  assert.equal(tails.has('dev-1'), false);
  await store.append(readings('dev-1', 210, 10));
  assert.deepEqual((await readAllPages(store, { deviceId: 'dev-1', limit: 100 })).items, readings('dev-1', 0, 220));
});
