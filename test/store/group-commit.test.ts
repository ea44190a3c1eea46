import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupCommitWriter, type BatchOp } from '../../daemon/store/group-commit.js';

/** A writer over a fake LevelDB whose writes finish when the test says so. */
function harness(maxWeightPerBatch = 1000) {
  const batches: number[][] = [];
  const applied: number[][] = [];
  const pendingWrites: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  let background = 0;
  const writer = new GroupCommitWriter<number>({
    write: (_ops: BatchOp[]) => new Promise<void>((resolve, reject) => pendingWrites.push({ resolve, reject })),
    plan: (requests) => {
      batches.push(requests);
      if (requests.length === 0) background -= 1;
      return { ops: [{ type: 'del', key: 'x' }], apply: () => applied.push(requests) };
    },
    hasBackgroundWork: () => background > 0,
    weight: (request) => request,
    maxWeightPerBatch,
    onWriteError: (err) => new Error(`wrapped: ${(err as Error).message}`),
    now: () => 0,
  });
  const settle = async (fail?: Error) => {
    for (let turns = 0; pendingWrites.length === 0; turns++) {
      if (turns === 100) throw new Error('no write was started');
      await new Promise((resolve) => setImmediate(resolve));
    }
    const write = pendingWrites.shift()!;
    if (fail) write.reject(fail);
    else write.resolve();
  };
  return { writer, batches, applied, settle, addBackground: () => (background += 1) };
}

describe('GroupCommitWriter', () => {
  it('writes at once when idle, and merges what arrives meanwhile into the next single batch', async () => {
    const { writer, batches, applied, settle } = harness();
    const first = writer.submit(10);
    assert.deepEqual(batches, [[10]], 'no timer: the first request is written at once');
    const later = [writer.submit(1), writer.submit(2), writer.submit(3)];
    assert.equal(writer.pendingWeight, 16);
    await settle();
    await first;
    assert.deepEqual(applied, [[10]]);
    await settle();
    await Promise.all(later);
    assert.deepEqual(batches, [[10], [1, 2, 3]]);
    assert.equal(writer.pendingWeight, 0);
    await writer.drain();
    assert.equal(writer.writing, false);
  });

  it('starts again for a request made right after the previous one resolved, however many ticks later', async () => {
    for (let ticks = 0; ticks < 6; ticks++) {
      const { writer, batches, settle } = harness();
      const done = (async () => {
        await writer.submit(1);
        for (let t = 0; t < ticks; t++) await Promise.resolve();
        await writer.submit(2);
      })();
      await settle();
      await settle();
      await done;
      assert.deepEqual(batches, [[1], [2]], `${ticks} ticks`);
    }
  });

  it('keeps batches under the weight limit, but never splits a request', async () => {
    const { writer, batches, settle } = harness(5);
    const all = [writer.submit(9), writer.submit(3), writer.submit(3), writer.submit(1)];
    for (let i = 0; i < 3; i++) await settle();
    await Promise.all(all);
    assert.deepEqual(batches, [[9], [3], [3, 1]]);
  });

  it('rejects every request of a failed batch, applies nothing, and goes on with the next', async () => {
    const { writer, applied, settle } = harness();
    const failing = writer.submit(1);
    const next = writer.submit(2);
    await settle(new Error('ENOSPC'));
    await assert.rejects(failing, { message: 'wrapped: ENOSPC' });
    await settle();
    await next;
    assert.deepEqual(applied, [[2]]);
  });

  it('writes background work with no request waiting when kicked', async () => {
    const { writer, batches, settle, addBackground } = harness();
    addBackground();
    writer.kick();
    await settle();
    await writer.drain();
    assert.deepEqual(batches, [[]]);
  });
});
