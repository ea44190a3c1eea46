import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../daemon/api/rate-limit.js';
import { encodeCompactBatch } from '../../drivers/codec/encode.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { AUTH, startTestHub } from '../helpers/hub.js';

test('RateLimiter: a bucket per address, charged after the request, refilled by the clock', () => {
  const clock = new FakeClock();
  const limiter = new RateLimiter(clock, { ratePerS: 100, burst: 100, what: 'readings' });
  assert.equal(limiter.retryAfterMs('a'), 0, 'a new address starts with a full bucket');
  limiter.charge('a', 60);
  assert.equal(limiter.retryAfterMs('a'), 0, 'still positive');
  limiter.charge('a', 90);
  assert.equal(limiter.retryAfterMs('a'), 501, 'a deficit of 50 at 100/s: positive again after 500 ms');
  assert.equal(limiter.retryAfterMs('b'), 0, 'another address is not affected');
  clock.advance(500);
  assert.equal(limiter.retryAfterMs('a'), 1);
  clock.advance(1);
  assert.equal(limiter.retryAfterMs('a'), 0);
  limiter.charge('a', 1000);
  assert.equal(limiter.retryAfterMs('a'), 10_000, 'a batch larger than the burst got in once; its sender waits the deficit off');
  clock.advance(60_000);
  limiter.charge('a', 100);
  assert.equal(limiter.retryAfterMs('a'), 1, 'saving up stops at the burst');
});

test('POST /readings over http.ingestReadingsPerS: 429 with Retry-After and {error, message}, nothing stored, counted; per address', async () => {
  const clock = new FakeClock(Date.now());
  const t = await startTestHub({ http: { host: '127.0.0.1', port: 0, ingestReadingsPerS: 100, predictReadingsPerS: 200, failedAuthPerMinute: 2 } }, clock);
  try {
    let seq = 0;
    const ingest = (deviceId: string, n: number, remoteAddress = '127.0.0.1') => {
      const payload = encodeCompactBatch({ deviceId, t0: clock.now() - n * 10, dtMs: 10, seq, samples: Array.from({ length: n }, (_, i) => [i / n, 0.1, 9.8, 0, 0, 0]) });
      seq += n;
      return t.hub.app.inject({ method: 'POST', url: '/api/v1/readings', headers: { ...AUTH, 'content-type': 'application/json' }, payload, remoteAddress });
    };
    const stored = async (deviceId: string) => (await t.hub.app.inject({ url: `/api/v1/readings?deviceId=${deviceId}`, headers: AUTH })).json().items.length;
    const metric = async (limit: string) => Number((await t.hub.app.inject('/metrics')).body.split('\n').find((l) => l.startsWith(`gymhub_api_rate_limited_total{limit="${limit}"}`))?.split(' ')[1]);

    assert.equal((await ingest('rl-a', 150)).statusCode, 202, 'a full bucket takes a batch larger than itself once');
    const refused = await ingest('rl-a', 10);
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(refused.json().error, 'rate_limited');
    assert.match(refused.json().message, /100\/s/);
    assert.equal(await stored('rl-a'), 150, 'the refused batch was not stored');
    assert.equal((await ingest('rl-b', 10, '192.168.1.7')).statusCode, 202, 'another address has its own budget');
    assert.equal(await metric('ingest'), 1);

    clock.advance(501);
    assert.equal((await ingest('rl-a', 10)).statusCode, 202, 'the deficit is paid off with time');
    assert.equal(await stored('rl-a'), 160);

    const sample = (i: number) => ({ ts: clock.now() - 5000 + i * 20, accel: [0, 0.1, 9.8], gyro: [0, 0, 0.01] });
    const predict = (n: number) => t.hub.app.inject({ method: 'POST', url: '/api/v1/predict', headers: { ...AUTH, 'content-type': 'application/json' }, payload: JSON.stringify({ readings: Array.from({ length: n }, (_, i) => sample(i)) }) });
    assert.equal((await predict(250)).statusCode, 200);
    const refusedPredict = await predict(10);
    assert.equal(refusedPredict.statusCode, 429);
    assert.equal(refusedPredict.json().error, 'rate_limited');
    assert.equal(await metric('predict'), 1);

    const badToken = () => t.hub.app.inject({ url: '/api/v1/info', headers: { authorization: 'Bearer wrong-token-wrong-token' }, remoteAddress: '10.0.0.9' });
    assert.deepEqual([(await badToken()).statusCode, (await badToken()).statusCode, (await badToken()).statusCode], [401, 401, 429]);
    assert.equal(await metric('failed_auth'), 1);
    assert.equal(await metric('ingest'), 1, 'each limit counts its own refusals');
  } finally {
    await t.close();
  }
});
