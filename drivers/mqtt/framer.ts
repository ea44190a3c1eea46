/**
 * Splits an MQTT byte stream into whole packets before mqtt-packet parses them, so that an oversized
 * PUBLISH never gets buffered. mqtt-packet's parser would hold a whole packet in memory (up to 256 MB as
 * the protocol allows); on a 512 MB Pi one such message relayed by the broker would kill the hub, and since
 * QoS 1 redelivers it after every restart, it would kill it again. Instead we keep only an oversized
 * PUBLISH's topic and packet id, skip its body, and let the caller acknowledge and count it.
 */

export interface OversizedPublish {
  topic: string;
  qos: number;
  /** Present for QoS 1 and 2. */
  messageId?: number;
  /** Remaining length of the packet in bytes. */
  length: number;
}

export interface FramerHandlers {
  /** One complete packet (fixed header included), at most maxPacketBytes long. */
  onPacket(packet: Buffer): void;
  onOversized(info: OversizedPublish): void;
}

export class FramingError extends Error {
  override readonly name = 'FramingError';
}

const PUBLISH_TYPE = 3;
/** Remaining length is a variable byte integer of at most 4 bytes (MQTT 3.1.1 section 2.2.3). */
const MAX_LENGTH_BYTES = 4;

interface Skipping {
  info: { qos: number; length: number };
  /** Bytes of the variable header collected so far (topic and packet id). */
  head: Buffer[];
  headBytes: number;
  reported: boolean;
  /** Bytes of this packet still to discard. */
  remaining: number;
}

export class PacketFramer {
  private pending: Buffer | undefined;
  private skipping: Skipping | undefined;

  constructor(
    private readonly maxPacketBytes: number,
    private readonly handlers: FramerHandlers,
  ) {}

  /** Throws FramingError on a malformed fixed header; the connection must then be closed. */
  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.skipping) {
      buf = this.skip(buf);
      if (buf.length === 0) return;
    }
    if (this.pending) {
      buf = Buffer.concat([this.pending, buf]);
      this.pending = undefined;
    }
    let offset = 0;
    while (offset < buf.length) {
      const header = readFixedHeader(buf, offset);
      if (!header) break;
      const total = header.headerBytes + header.length;
      if (total > this.maxPacketBytes) {
        if (header.type !== PUBLISH_TYPE) throw new FramingError(`packet of type ${header.type} is ${total} bytes`);
        const qos = (buf[offset] >> 1) & 3;
        this.skipping = { info: { qos, length: header.length }, head: [], headBytes: 0, reported: false, remaining: header.length };
        const rest = this.skip(buf.subarray(offset + header.headerBytes));
        if (this.skipping) return;
        buf = rest;
        offset = 0;
        continue;
      }
      if (buf.length - offset < total) break;
      this.handlers.onPacket(buf.subarray(offset, offset + total));
      offset += total;
    }
    if (offset < buf.length) this.pending = Buffer.from(buf.subarray(offset));
  }

  /** Consumes bytes of the packet being skipped; returns what follows it. */
  private skip(buf: Buffer): Buffer {
    const s = this.skipping!;
    const take = Math.min(s.remaining, buf.length);
    if (!s.reported) {
      s.head.push(buf.subarray(0, take));
      s.headBytes += take;
      this.tryReport(s);
    }
    s.remaining -= take;
    if (s.remaining === 0) {
      if (!s.reported) throw new FramingError('PUBLISH too short for its topic');
      this.skipping = undefined;
    }
    return buf.subarray(take);
  }

  private tryReport(s: Skipping): void {
    if (s.headBytes < 2) return;
    const head = s.head.length === 1 ? s.head[0] : Buffer.concat(s.head);
    s.head = [head];
    const topicLength = head.readUInt16BE(0);
    const needed = 2 + topicLength + (s.info.qos > 0 ? 2 : 0);
    if (head.length < needed) return;
    const topic = head.toString('utf8', 2, 2 + topicLength);
    const messageId = s.info.qos > 0 ? head.readUInt16BE(2 + topicLength) : undefined;
    s.reported = true;
    s.head = [];
    this.handlers.onOversized({ topic, qos: s.info.qos, messageId, length: s.info.length });
  }
}

function readFixedHeader(buf: Buffer, offset: number): { type: number; length: number; headerBytes: number } | undefined {
  let length = 0;
  let multiplier = 1;
  for (let i = 1; i <= MAX_LENGTH_BYTES; i++) {
    if (offset + i >= buf.length) return undefined;
    const byte = buf[offset + i];
    length += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { type: buf[offset] >> 4, length, headerBytes: 1 + i };
    multiplier *= 128;
  }
  throw new FramingError('remaining length longer than 4 bytes');
}
