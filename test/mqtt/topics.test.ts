import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStatusPayload, topicsFor } from '../../drivers/mqtt/topics.js';

test('topics name a device and a kind under the prefix, and nothing else', () => {
  const topics = topicsFor('gym1/gymhub');
  assert.equal(topics.imuFilter, 'gym1/gymhub/+/imu');
  assert.equal(topics.command('ESP32_001'), 'gym1/gymhub/ESP32_001/cmd');
  assert.deepEqual(topics.parse('gym1/gymhub/ESP32_001/imu'), { deviceId: 'ESP32_001', kind: 'imu' });
  assert.deepEqual(topics.parse('gym1/gymhub/a.b:c-d/status'), { deviceId: 'a.b:c-d', kind: 'status' });
  for (const bad of ['gymhub/x/imu', 'gym1/gymhub/x/imu/extra', 'gym1/gymhub/bad id/imu', 'gym1/gymhub//imu', 'gym1/gymhub/x/other']) {
    assert.equal(topics.parse(bad), undefined, bad);
  }
  assert.throws(() => topicsFor('a/+'));
  assert.throws(() => topicsFor('a/'));
});

test('status payloads: JSON fields of the right type, bare online/offline, the rest ignored', () => {
  const parse = (text: string) => parseStatusPayload(Buffer.from(text));
  assert.deepEqual(parse('{"online":true,"fw":"1.2.0","hz":100,"battery":87}'), { online: true, fw: '1.2.0', hz: 100, battery: 87 });
  assert.deepEqual(parse('{"online":false}'), { online: false });
  assert.deepEqual(parse('{"online":"yes","hz":-5,"battery":1e9,"fw":7}'), undefined);
  assert.deepEqual(parse('offline'), { online: false });
  assert.equal(parse('not json'), undefined);
  assert.equal(parse('[1,2]'), undefined);
  assert.equal(parseStatusPayload(Buffer.alloc(0)), undefined);
});
