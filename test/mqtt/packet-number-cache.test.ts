import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { writeToStream } from 'mqtt-packet';
import { EmbeddedMqttDriver } from '../../drivers/mqtt/embedded-driver.js';
import { MqttDriver } from '../../drivers/mqtt/mqtt-driver.js';
import { startBroker } from '../helpers/broker.js';
import { compactBatch, connectDevice, harness, PROTOCOL, RUN } from './support.js';

/** mqtt-packet's table of 2-byte Buffers, one per number up to 65,535, filled on its first write when caching is on. */
const numberCache = createRequire(import.meta.url)('mqtt-packet/numbers.js').cache as Record<number, Buffer>;

/** Caching on, as mqtt-packet starts (and as the previous test may have left it off): the hub must turn it off. */
function cachingAsMqttPacketStarts(): void {
  writeToStream.cacheNumbers = true;
  assert.equal(Object.keys(numberCache).length, 0, 'an earlier write already filled the table; nothing can be checked');
}

test('the embedded broker acknowledges readings without building mqtt-packet\'s 7 MB number table', { timeout: 10_000 }, async (t) => {
  cachingAsMqttPacketStarts();
  const h = harness();
  const driver = new EmbeddedMqttDriver(h.deps, { port: 0, host: '127.0.0.1' });
  t.after(() => driver.stop());
  await driver.start();
  const device = await connectDevice(`mqtt://127.0.0.1:${driver.port}`, { clientId: 'cache-emb' });
  t.after(() => device.endAsync());
  // Resolves on the broker's PUBACK: CONNACK and PUBACK were written by the hub's broker.
  await device.publishAsync('gymhub/cache-emb/imu', compactBatch('cache-emb', 0), { qos: 1 });
  assert.equal(h.sink.stored.length, 10);
  assert.equal(writeToStream.cacheNumbers, false);
  assert.equal(Object.keys(numberCache).length, 0);
});

test('the hub as a client of an outside broker writes its packets without the number table', { timeout: 10_000 }, async (t) => {
  cachingAsMqttPacketStarts();
  const broker = await startBroker();
  const h = harness();
  const driver = new MqttDriver(h.deps, { url: broker.url, clientId: `gymhub-cache-hub${RUN}`, protocolVersion: PROTOCOL });
  t.after(async () => {
    await driver.stop();
    await broker.close();
  });
  // The hub's connection turns caching off before its socket opens, so the broker's CONNACK is written without it too.
  await driver.start();
  const device = await connectDevice(broker.url, { clientId: `cache-dev${RUN}` });
  t.after(() => device.endAsync());
  await device.publishAsync(`gymhub/cache-dev${RUN}/imu`, compactBatch(`cache-dev${RUN}`, 0), { qos: 1 });
  await h.sink.until(() => h.sink.stored.length === 10);
  assert.equal(writeToStream.cacheNumbers, false);
  assert.equal(Object.keys(numberCache).length, 0);
});
