import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AckWindow } from '../../drivers/mqtt/ack-window.js';

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

function recorder() {
  const acks: number[] = [];
  const events: string[] = [];
  const window = new AckWindow({
    sendAcks: (ids) => acks.push(...ids),
    onRefused: () => events.push('refused'),
    onFailure: (error) => events.push(`failure:${(error as Error).message}`),
  });
  return { window, acks, events };
}

test('acknowledges in arrival order, each only after its own work resolved', async () => {
  const { window, acks } = recorder();
  const work = [deferred(), deferred(), deferred()];
  window.add(1, work[0].promise);
  window.add(undefined, undefined); // QoS 0, nothing to wait for
  window.add(2, work[1].promise);
  window.add(3, undefined); // nothing to store, but behind 2
  window.add(4, work[2].promise);
  work[2].resolve();
  work[1].resolve();
  await turn();
  assert.deepEqual(acks, [], 'message 1 still storing: nothing may be acknowledged');
  work[0].resolve();
  await turn();
  assert.deepEqual(acks, [1, 2, 3, 4]);
  assert.equal(window.size, 0);
});

test('a refused message stops all acks from it on and is reported once the earlier ones are acked', async () => {
  const { window, acks, events } = recorder();
  const work = [deferred(), deferred(), deferred()];
  window.add(1, work[0].promise);
  window.add(2, work[1].promise);
  window.add(3, work[2].promise);
  work[1].reject(new Error('disk full'));
  await turn();
  assert.deepEqual(events, ['refused'], 'the caller learns at once that it must stop taking messages');
  work[2].resolve();
  work[0].resolve();
  await turn();
  assert.deepEqual(acks, [1]);
  assert.deepEqual(events, ['refused', 'failure:disk full']);
  await window.drain();
});

test('drain waits for every store, and a failed QoS 0 store does not stop the window', async () => {
  const { window, acks, events } = recorder();
  const work = [deferred(), deferred()];
  window.add(undefined, work[0].promise);
  window.add(9, work[1].promise, 100);
  assert.equal(window.bytes, 100);
  let drained = false;
  const drain = window.drain().then(() => { drained = true; });
  work[0].reject(new Error('lost QoS 0'));
  await turn();
  assert.equal(drained, false);
  work[1].resolve();
  await drain;
  assert.deepEqual(acks, [9]);
  assert.deepEqual(events, []);
  assert.equal(window.bytes, 0);
});
