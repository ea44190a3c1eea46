import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ReadingStore, type ReadingStoreOptions, type ReadQuery } from '../../daemon/store/reading-store.js';
import type { Reading } from '../../drivers/reading.js';
import { FakeClock } from '../helpers/fake-clock.js';

export const T0 = Date.UTC(2026, 0, 1);

export async function tempDir(prefix = 'gymhub-store-'): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Reading number i of a device at 100 Hz, with values that differ from reading to reading. */
export function reading(deviceId: string, i: number, extra: Partial<Reading> = {}): Reading {
  return {
    deviceId,
    ts: T0 + i * 10,
    seq: i,
    accel: [0.25 * (i % 8), -0.5, 9.75],
    gyro: [0.125, -0.0625 * (i % 4) || 0, 0],
    ...extra,
  };
}

export function readings(deviceId: string, from: number, count: number): Reading[] {
  return Array.from({ length: count }, (_, k) => reading(deviceId, from + k));
}

export interface OpenedStore {
  store: ReadingStore;
  clock: FakeClock;
}

export async function openStore(dir: string, options: Partial<ReadingStoreOptions> = {}, clock = new FakeClock()): Promise<OpenedStore> {
  const store = new ReadingStore({ dir, log: pino({ level: 'silent' }), clock, ...options });
  await store.open();
  return { store, clock };
}

/** Every page of a query, following nextCursor to the end. */
export async function readAllPages(store: ReadingStore, query: Omit<ReadQuery, 'cursor'>): Promise<{ items: Reading[]; pages: number }> {
  const items: Reading[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await store.read({ ...query, cursor });
    items.push(...page.items);
    pages += 1;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return { items, pages };
}

export async function collectIterate(iterable: AsyncIterable<Reading[]>): Promise<{ items: Reading[]; chunks: number }> {
  const items: Reading[] = [];
  let chunks = 0;
  for await (const chunk of iterable) {
    items.push(...chunk);
    chunks += 1;
  }
  return { items, chunks };
}
