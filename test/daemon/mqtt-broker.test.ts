import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectAsync } from 'mqtt';
import { encodeCompactBatch } from '../../drivers/codec/encode.js';
import { startBroker } from '../helpers/broker.js';
import { AUTH, startTestHub } from '../helpers/hub.js';

const SAMPLES = 10;

test('MQTT through a real broker into the store and the API; the broker restarts mid-stream and no acknowledged reading is lost', async (t) => {
  const broker = await startBroker();
  const hub = await startTestHub({ mqtt: { url: broker.url } });
  t.after(async () => {
    await hub.close();
    await broker.close();
  });
  const readingsOf = async (deviceId: string) => (await hub.hub.app.inject({ url: `/api/v1/readings?deviceId=${deviceId}&limit=10000`, headers: AUTH })).json().items as Array<{ seq: number; accel: number[] }>;
  const until = async (what: string, ok: () => boolean | Promise<boolean>) => {
    const deadline = Date.now() + 15_000;
    while (!(await ok())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await until('the hub to connect', () => hub.hub.health().components.mqtt.state === 'running');

  const device = await connectAsync(broker.url, { clientId: 'restart-device', reconnectPeriod: 100 });
  device.on('error', () => undefined);
  const acked = new Set<number>();
  const publishRange = async (from: number, to: number) => {
    await Promise.all(Array.from({ length: to - from }, async (_, i) => {
      const seq = (from + i) * SAMPLES;
      const payload = encodeCompactBatch({ deviceId: 'dev-restart', t0: Date.now(), dtMs: 1, seq, samples: Array.from({ length: SAMPLES }, (_, k) => [k, 0, 9.81, 0, 0, 0]) });
      await device.publishAsync('gymhub/dev-restart/imu', payload, { qos: 1 });
      for (let k = 0; k < SAMPLES; k++) acked.add(seq + k);
    }));
  };

  await publishRange(0, 300);
  const stored = await readingsOf('dev-restart');
  assert.ok(stored.length > 0, 'readings published with QoS 1 are readable through the API');
  assert.deepEqual(stored[0].accel, [0, 0, 9.81]);

  // Stop the broker mid-stream: some of what the device published is stored, some is still queued for the hub.
  const publishing = publishRange(300, 600).catch(() => undefined);
  await broker.restart();
  await publishing;
  await until('the hub to reconnect by itself', () => hub.hub.health().components.mqtt.state === 'running');
  assert.ok((hub.hub.health().components.mqtt.reconnects as number) >= 1);
  await publishRange(600, 700);

  let missing: number[] = [];
  try {
    await until('every acknowledged reading in the store', async () => {
      const have = new Set((await readingsOf('dev-restart')).map((r) => r.seq));
      missing = [...acked].filter((seq) => !have.has(seq));
      return missing.length === 0;
    });
  } finally {
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${acked.size} acknowledged readings missing; codec: ${JSON.stringify(hub.hub.health().components.mqtt)}`);
  }
  await device.endAsync();
});
