import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCompact, buildSeed, int, mutateBytes, mutateJsonValue, pickOne, seededRandom } from '../codec/fuzz-gen.js';
import { AUTH, startTestHub, type TestHub } from '../helpers/hub.js';

const PAYLOADS_PER_FORMAT = 10_000;
const CONCURRENCY = 64;

let t: TestHub;
before(async () => {
  t = await startTestHub();
});
after(() => t.close());

interface Outcome {
  status: number;
  body: { accepted?: number; rejected?: number; duplicates?: number; error?: string; message?: string };
}

async function post(payload: string | Uint8Array): Promise<Outcome> {
  const response = await t.hub.app.inject({ method: 'POST', url: '/api/v1/readings', headers: { ...AUTH, 'content-type': 'application/json' }, payload: typeof payload === 'string' ? payload : Buffer.from(payload) });
  return { status: response.statusCode, body: response.json() };
}

/** Runs `count` generated payloads through POST /readings with some in flight at once. */
async function fuzz(count: number, make: (i: number) => { payload: string | Uint8Array; check?: (o: Outcome) => void }) {
  const statuses: Record<number, number> = {};
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) {
      const { payload, check } = make(next++);
      const outcome = await post(payload);
      statuses[outcome.status] = (statuses[outcome.status] ?? 0) + 1;
      assert.ok([202, 400, 413].includes(outcome.status), `status ${outcome.status}: ${JSON.stringify(outcome.body)}`);
      if (outcome.status !== 202) assert.ok(outcome.body.error && outcome.body.message, 'a 4xx names the error and says why');
      check?.(outcome);
    }
  }));
  return statuses;
}

for (const [format, build] of [['seed (a)', buildSeed], ['compact (b)', buildCompact]] as const) {
  test(`HTTP ingest, format ${format}: ${PAYLOADS_PER_FORMAT} generated and mutated payloads, never a 500, counts add up`, async () => {
    const random = seededRandom(format.length * 7919);
    let expectedAccepted = 0;
    const deviceIds = new Set<string>();
    const statuses = await fuzz(PAYLOADS_PER_FORMAT, (i) => {
      const deviceId = `fuzz-${format[0]}-${i % 97}`;
      const built = build(random, deviceId, Date.now() - 1000, false);
      if (random() < 0.5) {
        // Fresh device per built payload so that duplicates across payloads cannot blur the count.
        const fresh = `${deviceId}-${i}`;
        const payload = built.payload.replaceAll(deviceId, fresh);
        return {
          payload,
          check: (o) => {
            const accepted = o.status === 202 ? o.body.accepted! : 0;
            if (o.status === 202) {
              assert.equal(o.body.accepted! + o.body.rejected! + o.body.duplicates!, built.n, payload);
              assert.equal(o.body.rejected, built.bad, payload);
              deviceIds.add(fresh);
            } else {
              assert.equal(built.n, built.bad, `rejected whole although it had good samples: ${payload}`);
            }
            expectedAccepted += accepted;
          },
        };
      }
      const mutated = random() < 0.5
        ? JSON.stringify(mutateJsonValue(random, JSON.parse(built.payload.replaceAll('1e999', '0'))))
        : mutateBytes(random, Buffer.from(built.payload));
      return { payload: mutated };
    });
    assert.ok(statuses[202] > 1000 && statuses[400] > 1000, JSON.stringify(statuses));
    // Every sample reported accepted is readable, device by device.
    let stored = 0;
    for (const deviceId of deviceIds) {
      const page = (await t.hub.app.inject({ url: `/api/v1/readings?deviceId=${deviceId}&limit=10000`, headers: AUTH })).json();
      stored += page.items.length;
    }
    assert.equal(stored, expectedAccepted);
    const health = await t.hub.app.inject('/health');
    assert.equal(health.statusCode, 200);
    assert.equal(health.json().components.store.state, 'ok');
  });
}

test('HTTP ingest survives random bytes and odd content', async () => {
  const random = seededRandom(42);
  const statuses = await fuzz(2000, () => ({
    payload: pickOne(random, [
      () => Uint8Array.from({ length: int(random, 0, 512) }, () => int(random, 0, 255)),
      () => `${'['.repeat(int(random, 1, 5000))}`,
      () => JSON.stringify({ d: 'x'.repeat(int(random, 60, 70)), t0: 1, dt: 1, s: [[0, 0, 0, 0, 0, 0]] }),
      () => JSON.stringify({ hello: { deviceId: 'http-hello' } }),
      () => '{"__proto__":{"polluted":true},"d":"p","t0":1,"dt":1,"s":[[0,0,9.8,0,0,0]]}',
    ])(),
  }));
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
  assert.ok(Object.keys(statuses).every((s) => ['202', '400', '413'].includes(s)), JSON.stringify(statuses));
});
