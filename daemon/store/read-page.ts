import type { Reading } from '../../drivers/reading.js';
import { encodeCursor, type PageCursor } from './cursor.js';

export interface Page {
  items: Reading[];
  nextCursor: string | null;
}

/** One device's sorted runs, read one reading at a time, skipping what the cursor says was already returned. */
class DeviceReader {
  private run: Reading[] = [];
  private at = 0;
  private skipAtCursor: number;

  constructor(
    readonly deviceId: string,
    private readonly runs: AsyncGenerator<Reading[], void, undefined>,
    private readonly cursor: PageCursor | undefined,
  ) {
    // Readings at the cursor's ts: devices ordered before the cursor's were returned in full, the cursor's own
    // device for its first k, later devices not at all.
    if (!cursor) this.skipAtCursor = 0;
    else if (deviceId < cursor.d) this.skipAtCursor = Infinity;
    else if (deviceId === cursor.d) this.skipAtCursor = cursor.k;
    else this.skipAtCursor = 0;
  }

  /** Moves to the next reading to return; false when the device has no more. */
  async ready(): Promise<boolean> {
    for (;;) {
      while (this.at < this.run.length) {
        if (this.skipAtCursor > 0 && this.run[this.at].ts === this.cursor?.t) {
          this.skipAtCursor -= 1;
          this.at += 1;
        } else {
          return true;
        }
      }
      const next = await this.runs.next();
      if (next.done) return false;
      this.run = next.value;
      this.at = 0;
    }
  }

  head(): Reading {
    return this.run[this.at];
  }

  take(): Reading {
    return this.run[this.at++];
  }

  async close(): Promise<void> {
    await this.runs.return(undefined);
  }
}

function before(a: DeviceReader, b: DeviceReader): boolean {
  const x = a.head();
  const y = b.head();
  return x.ts < y.ts || (x.ts === y.ts && a.deviceId < b.deviceId);
}

/**
 * Merges per-device runs (each already starting at the cursor's ts) into one page ordered by (ts, deviceId),
 * with a binary heap keyed by each device's next reading.
 */
export async function readPage(
  devices: Array<{ deviceId: string; runs: AsyncGenerator<Reading[], void, undefined> }>,
  cursor: PageCursor | undefined,
  limit: number,
): Promise<Page> {
  const readers = devices.map(({ deviceId, runs }) => new DeviceReader(deviceId, runs, cursor));
  const items: Reading[] = [];
  try {
    const heap: DeviceReader[] = [];
    for (const reader of readers) if (await reader.ready()) heapPush(heap, reader);
    // One more than the page, to know whether there is a next page.
    while (items.length <= limit && heap.length > 0) {
      const reader = heap[0];
      items.push(reader.take());
      if (await reader.ready()) heapReplaceTop(heap, reader);
      else heapPopTop(heap);
    }
  } finally {
    await Promise.all(readers.map((reader) => reader.close()));
  }
  if (items.length <= limit) return { items, nextCursor: null };
  items.length = limit;
  return { items, nextCursor: encodeCursor(cursorAfter(items, cursor)) };
}

/** The cursor after the last item: how many readings with its (ts, deviceId) have been returned in all. */
function cursorAfter(items: Reading[], previous: PageCursor | undefined): PageCursor {
  const last = items[items.length - 1];
  let k = 0;
  for (let i = items.length - 1; i >= 0 && items[i].ts === last.ts && items[i].deviceId === last.deviceId; i--) k += 1;
  if (k === items.length && previous && previous.t === last.ts && previous.d === last.deviceId) k += previous.k;
  return { t: last.ts, d: last.deviceId, k };
}

function heapPush(heap: DeviceReader[], reader: DeviceReader): void {
  heap.push(reader);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[i], heap[parent])) break;
    [heap[i], heap[parent]] = [heap[parent], heap[i]];
    i = parent;
  }
}

function heapPopTop(heap: DeviceReader[]): void {
  const last = heap.pop()!;
  if (heap.length > 0) heapReplaceTop(heap, last);
}

function heapReplaceTop(heap: DeviceReader[], reader: DeviceReader): void {
  heap[0] = reader;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    const right = left + 1;
    let smallest = i;
    if (left < heap.length && before(heap[left], heap[smallest])) smallest = left;
    if (right < heap.length && before(heap[right], heap[smallest])) smallest = right;
    if (smallest === i) return;
    [heap[i], heap[smallest]] = [heap[smallest], heap[i]];
    i = smallest;
  }
}
