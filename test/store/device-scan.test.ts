import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { Level } from 'level';
import { encodeBlock } from '../../daemon/store/block-codec.js';
import { scanDevice, type DeviceSnapshot } from '../../daemon/store/device-scan.js';
import { blockKey } from '../../daemon/store/keys.js';
import { SampleColumns } from '../../daemon/store/sample-columns.js';
import type { Reading } from '../../drivers/reading.js';
import { readings, tempDir } from './store-helpers.js';

let root: Awaited<ReturnType<typeof tempDir>>;
let db: Level<string, Buffer>;

async function scan(snapshot: DeviceSnapshot, from = -Infinity, to = Infinity): Promise<Reading[]> {
  const out: Reading[] = [];
  for await (const run of scanDevice(db, snapshot, from, to)) out.push(...run);
  return out;
}

before(async () => {
  root = await tempDir();
  db = new Level<string, Buffer>(join(root.path, 'db'), { valueEncoding: 'buffer' });
  await db.open();
  // Blocks 1 and 2 hold readings 0..49; block 3 (committed after the reader's snapshot) holds 50..59.
  const all = SampleColumns.fromReadings(readings('A', 0, 60));
  await db.batch([
    { type: 'put', key: blockKey('A', all.ts[0], 1), value: encodeBlock(all, 0, 25) },
    { type: 'put', key: blockKey('A', all.ts[25], 2), value: encodeBlock(all, 25, 50) },
    { type: 'put', key: blockKey('A', all.ts[50], 3), value: encodeBlock(all, 50, 60) },
    { type: 'put', key: blockKey('AB', all.ts[0], 4), value: encodeBlock(SampleColumns.fromReadings(readings('AB', 0, 5))) },
  ]);
});

after(async () => {
  await db.close();
  await root.remove();
});

describe('scanDevice', () => {
  it('skips blocks committed after the snapshot, whose readings the snapshot still has in its tail', async () => {
    const tail = SampleColumns.fromReadings(readings('A', 50, 10));
    assert.deepEqual(await scan({ deviceId: 'A', visibleBlockSeq: 2, tail: { columns: tail, length: 10 } }), readings('A', 0, 60));
    assert.deepEqual(await scan({ deviceId: 'A', visibleBlockSeq: 4 }), readings('A', 0, 60));
  });

  it('reads only the tail length the snapshot saw, though the tail grew since', async () => {
    const tail = SampleColumns.fromReadings(readings('A', 50, 10));
    tail.push(readings('A', 60, 1)[0]);
    assert.deepEqual(await scan({ deviceId: 'A', visibleBlockSeq: 2, tail: { columns: tail, length: 10 } }), readings('A', 0, 60));
  });

  it('merges a tail older than the last blocks into its place in time', async () => {
    const late = SampleColumns.fromReadings(readings('A', 10, 3).map((r) => ({ ...r, ts: r.ts + 5 })));
    const out = await scan({ deviceId: 'A', visibleBlockSeq: 4, tail: { columns: late, length: 3 } }, -Infinity, Infinity);
    assert.equal(out.length, 63);
    assert.deepEqual(out.map((r) => r.ts), [...out.map((r) => r.ts)].sort((a, b) => a - b));
  });
});
