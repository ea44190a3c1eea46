import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generate } from 'mqtt-packet';
import { FramingError, PacketFramer, type OversizedPublish } from '../../drivers/mqtt/framer.js';

function publish(topic: string, payload: Buffer, messageId = 7): Buffer {
  return generate({ cmd: 'publish', topic, payload, qos: 1, messageId, dup: false, retain: false });
}

function collect(maxBytes: number) {
  const packets: Buffer[] = [];
  const oversized: OversizedPublish[] = [];
  const framer = new PacketFramer(maxBytes, { onPacket: (p) => packets.push(Buffer.from(p)), onOversized: (o) => oversized.push(o) });
  return { framer, packets, oversized };
}

test('splits a stream into whole packets, however the chunks fall', () => {
  const stream = Buffer.concat([
    publish('gymhub/a/imu', Buffer.alloc(300, 1), 1),
    generate({ cmd: 'pingresp' }),
    publish('gymhub/b/imu', Buffer.alloc(20_000, 2), 2),
    publish('gymhub/c/imu', Buffer.alloc(0), 3),
  ]);
  for (const size of [1, 2, 3, 7, 128, 1000, stream.length]) {
    const { framer, packets } = collect(1 << 20);
    for (let at = 0; at < stream.length; at += size) framer.push(stream.subarray(at, at + size));
    assert.equal(packets.length, 4, `chunk size ${size}`);
    assert.deepEqual(Buffer.concat(packets), stream);
  }
});

test('skips an oversized PUBLISH, keeping its topic and packet id, and goes on after it', () => {
  const big = publish('gymhub/dev-1/imu', Buffer.alloc(100_000, 9), 4242);
  const after = publish('gymhub/dev-2/imu', Buffer.from('{}'), 5);
  const stream = Buffer.concat([big, after]);
  for (const size of [1, 5, 4096, stream.length]) {
    const { framer, packets, oversized } = collect(10_000);
    for (let at = 0; at < stream.length; at += size) framer.push(stream.subarray(at, at + size));
    assert.deepEqual(oversized, [{ topic: 'gymhub/dev-1/imu', qos: 1, messageId: 4242, length: big.length - 4 }], `chunk size ${size}`);
    assert.deepEqual(packets, [after]);
  }
});

test('refuses a malformed length and an oversized packet that is not a PUBLISH', () => {
  assert.throws(() => collect(100).framer.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])), FramingError);
  const suback = generate({ cmd: 'suback', messageId: 1, granted: new Array(200).fill(1) });
  assert.throws(() => collect(100).framer.push(suback), FramingError);
});
