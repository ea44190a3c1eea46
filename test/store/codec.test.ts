import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockByteLength, decodeBlock, encodeBlock, encodedBlockBytes } from '../../daemon/store/block-codec.js';
import { blockBounds } from '../../daemon/store/commit-plan.js';
import { decodeCursor, encodeCursor } from '../../daemon/store/cursor.js';
import { RunMerger } from '../../daemon/store/device-scan.js';
import { roundFloat32 } from '../../daemon/store/float32-round.js';
import { decodeJournalEntry, encodeJournalEntry } from '../../daemon/store/journal-codec.js';
import { MAX_BLOCK_SAMPLES, MAX_BLOCK_SPAN_MS, blockKey, blockRange, parseBlockKeyTail } from '../../daemon/store/keys.js';
import { SampleColumns } from '../../daemon/store/sample-columns.js';
import type { Reading } from '../../drivers/reading.js';
import { T0, reading } from './store-helpers.js';

describe('roundFloat32', () => {
  it('gives back the decimal a device sent once it went through float32', () => {
    for (const value of [1.414, -0.01, 9.81, 0.1, 26.82, -14421, 1617, 3.3e-5, 123456.7]) {
      assert.equal(roundFloat32(Math.fround(value)), value);
    }
  });

  it('agrees with toPrecision(7) on random float32 values of every magnitude', () => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let n = 0; n < 200_000; n++) {
      const value = Math.fround((random() - 0.5) * 10 ** Math.floor(random() * 60 - 30));
      assert.equal(roundFloat32(value), Number(value.toPrecision(7)), `value ${value}`);
    }
    for (const value of [0, -0, Infinity, -Infinity, 1e-45, 3.4e38, 1, 10, 100, 999999.9]) {
      assert.equal(roundFloat32(Math.fround(value)), Number(Math.fround(value).toPrecision(7)));
    }
  });
});

describe('block codec', () => {
  const mixed: Reading[] = [
    reading('A', 0),
    { deviceId: 'A', ts: T0 + 10.5, accel: [1.414, -2, 3], gyro: [0.1, 0.2, 0.3], mag: [1617, 1119, -14421], temp: 26.82 },
    { deviceId: 'A', ts: T0 + 20, seq: 4294967295, accel: [0, 0, 0], gyro: [0, 0, 0], temp: -5.5 },
    ...Array.from({ length: 13 }, (_, i) => reading('A', 3 + i, i % 3 === 0 ? { mag: [i, -i || 0, 0.5] } : {})),
  ];

  it('round-trips readings with any mix of optional fields', () => {
    const block = encodeBlock(SampleColumns.fromReadings(mixed));
    assert.equal(block.length, encodedBlockBytes(SampleColumns.fromReadings(mixed)));
    assert.equal(blockByteLength(block), block.length);
    assert.deepEqual(decodeBlock(block).readings('A'), mixed);
  });

  it('costs 32 bytes per reading without optional fields', () => {
    const plain = Array.from({ length: 100 }, (_, i) => ({ ...reading('A', i), seq: undefined }));
    plain.forEach((r) => delete r.seq);
    assert.equal(encodeBlock(SampleColumns.fromReadings(plain)).length, 8 + 32 * 100);
  });

  it('decodes a block that sits at an odd offset inside a bigger buffer', () => {
    const block = encodeBlock(SampleColumns.fromReadings(mixed));
    const padded = Buffer.concat([Buffer.from([7, 7, 7]), block, Buffer.from([9])]);
    assert.deepEqual(decodeBlock(padded.subarray(3)).readings('A'), mixed);
  });

  it('encodes a slice [start, end) of columns', () => {
    const columns = SampleColumns.fromReadings(mixed);
    assert.deepEqual(decodeBlock(encodeBlock(columns, 2, 6)).readings('A'), mixed.slice(2, 6));
  });
});

describe('journal codec', () => {
  it('round-trips several devices in one entry', () => {
    const segments = [
      { deviceId: 'ESP32_001', columns: SampleColumns.fromReadings([reading('ESP32_001', 1), reading('ESP32_001', 2)]) },
      { deviceId: 'serial-ttyUSB0', columns: SampleColumns.fromReadings([{ ...reading('serial-ttyUSB0', 5), mag: [1, 2, 3] }]) },
      { deviceId: 'x', columns: SampleColumns.fromReadings([reading('x', 9)]) },
    ];
    const decoded = decodeJournalEntry(encodeJournalEntry(segments));
    assert.deepEqual(decoded.map((s) => s.deviceId), ['ESP32_001', 'serial-ttyUSB0', 'x']);
    for (const [i, segment] of decoded.entries()) {
      assert.deepEqual(segment.columns.readings(segment.deviceId), segments[i].columns.readings(segments[i].deviceId));
    }
  });
});

describe('keys', () => {
  it('sorts blocks by device, then first ts, then seq', () => {
    const keys = [blockKey('dev', T0 + 5000, 2), blockKey('dev', T0, 9), blockKey('dev', T0, 3), blockKey('dev2', 0, 1), blockKey('de', T0 * 2, 1)];
    assert.deepEqual([...keys].sort(), [keys[4], keys[2], keys[1], keys[0], keys[3]]);
    assert.deepEqual(parseBlockKeyTail(keys[1]), { keyTs: T0, blockSeq: 9 });
  });

  it("keeps one device's range scan off another device whose id extends it", () => {
    const range = blockRange('dev', -Infinity, Infinity);
    const inRange = (key: string) => key >= range.gte && key < range.lt;
    assert.ok(inRange(blockKey('dev', T0, 1)));
    assert.ok(!inRange(blockKey('dev2', T0, 1)));
    assert.ok(!inRange(blockKey('dev.x', T0, 1)));
    assert.ok(!inRange(blockKey('de', T0, 1)));
  });

  it('starts a time range scan one block span before from', () => {
    const range = blockRange('dev', T0 + 100_000, T0 + 200_000.5);
    assert.ok(blockKey('dev', T0 + 100_000 - MAX_BLOCK_SPAN_MS, 1) >= range.gte);
    assert.ok(blockKey('dev', T0 + 100_000 - MAX_BLOCK_SPAN_MS - 1, 1) < range.gte);
    assert.ok(blockKey('dev', T0 + 200_000, 1) < range.lt, 'a block starting at 200000 may hold 200000.2 < to');
    assert.ok(blockKey('dev', T0 + 200_001, 1) >= range.lt);
  });
});

describe('block bounds', () => {
  it('cuts by count and by time span', () => {
    const columns = new SampleColumns();
    for (let i = 0; i < MAX_BLOCK_SAMPLES + 10; i++) columns.push(reading('A', i));
    columns.push({ ...reading('A', 0), ts: T0 + 10 * MAX_BLOCK_SAMPLES + MAX_BLOCK_SPAN_MS * 3 });
    const bounds = blockBounds(columns);
    assert.deepEqual(bounds, [[0, MAX_BLOCK_SAMPLES], [MAX_BLOCK_SAMPLES, MAX_BLOCK_SAMPLES + 10], [MAX_BLOCK_SAMPLES + 10, MAX_BLOCK_SAMPLES + 11]]);
  });
});

describe('cursor', () => {
  it('round-trips and refuses anything else', () => {
    const cursor = { t: T0 + 0.5, d: 'ESP32_001', k: 3 };
    assert.deepEqual(decodeCursor(encodeCursor(cursor)), cursor);
    for (const bad of ['', 'not base64 !', Buffer.from('{"t":1}').toString('base64url'), Buffer.from('[1,2]').toString('base64url'), encodeCursor({ t: 1, d: 'a', k: 0 })]) {
      assert.throws(() => decodeCursor(bad), { code: 'bad_cursor' });
    }
  });
});

describe('RunMerger', () => {
  const r = (ts: number, tag: number): Reading => ({ deviceId: 'A', ts, seq: tag, accel: [0, 0, 0], gyro: [0, 0, 0] });

  it('releases in time order when runs overlap, keeping earlier runs first on equal ts', () => {
    const merger = new RunMerger();
    const out: Reading[] = [];
    out.push(...merger.add(100, [r(100, 1), r(150, 2), r(300, 3)]));
    out.push(...merger.add(120, [r(120, 4), r(150, 5), r(200, 6)]));
    out.push(...merger.add(250, [r(250, 7)]));
    out.push(...merger.flush());
    assert.deepEqual(out.map((x) => x.seq), [1, 4, 2, 5, 6, 7, 3]);
  });
});
