import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { encodeCompactBatch } from '../../drivers/codec/encode.js';
import { AUTH, startTestHub, TEST_TOKEN, type TestHub } from '../helpers/hub.js';

let t: TestHub;
let base: string;
before(async () => {
  t = await startTestHub();
  base = `ws://127.0.0.1:${t.hub.address.port}/api/v1/stream`;
});
after(() => t.close());

function open(query: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; messages: Array<Record<string, unknown>> }> {
  const ws = new WebSocket(`${base}?${query}`, { headers });
  const messages: Array<Record<string, unknown>> = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('unexpected-response', (req, res) => {
      res.resume();
      req.destroy();
      reject(new Error(`HTTP ${res.statusCode}`));
    });
    ws.once('error', reject);
  });
}

const post = (deviceId: string, seq: number, n: number, dtMs = 10) => t.hub.app.inject({
  method: 'POST', url: '/api/v1/readings', headers: { ...AUTH, 'content-type': 'application/json' },
  payload: encodeCompactBatch({ deviceId, t0: Date.now() - n * dtMs, dtMs, seq, samples: Array.from({ length: n }, (_, i) => [i, 0, 9.8, 0, 0, 0]) }),
});

async function until(what: string, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('the stream needs the token (header or ?token=)', async () => {
  await assert.rejects(open(''), /HTTP 401/);
  await assert.rejects(open('token=wrong-token-wrong-token'), /HTTP 401/);
  const viaHeader = await open('', AUTH);
  viaHeader.ws.close();
  const viaQuery = await open(`token=${TEST_TOKEN}`);
  viaQuery.ws.close();
});

test('stored readings stream out, filtered by device and decimated on request', async () => {
  const all = await open(`token=${TEST_TOKEN}&deviceId=stream-a&topics=readings`);
  const slow = await open(`token=${TEST_TOKEN}&deviceId=stream-a&readingsHz=10`);
  assert.equal((await post('stream-b', 0, 50)).statusCode, 202);
  assert.equal((await post('stream-a', 0, 100, 10)).statusCode, 202);
  const count = (m: typeof all.messages) => m.filter((x) => x.type === 'readings').reduce((n, x) => n + (x.items as unknown[]).length, 0);
  await until('all 100 readings of stream-a', () => count(all.messages) === 100);
  await until('decimated readings', () => count(slow.messages) >= 10);
  assert.ok(all.messages.every((m) => m.deviceId === 'stream-a'), 'only the device asked for');
  const decimated = slow.messages.filter((m) => m.type === 'readings').flatMap((m) => m.items as Array<{ ts: number }>);
  assert.ok(decimated.length <= 11, `1 s of readings at 10 Hz, got ${decimated.length}`);
  for (let i = 1; i < decimated.length; i++) assert.ok(decimated[i].ts - decimated[i - 1].ts >= 100);
  all.ws.close();
  slow.ws.close();
});

test('a closed client leaves no listener behind', async () => {
  const client = await open(`token=${TEST_TOKEN}`);
  client.ws.close();
  await new Promise((resolve) => client.ws.once('close', resolve));
  await until('the server to drop the listeners', () => ((t.hub.bus as unknown as { registrations: Array<{ owner: string }> }).registrations.filter((r) => r.owner.startsWith('stream-')).length === 0));
});
