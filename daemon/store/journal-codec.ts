import { blockByteLength, decodeBlock, encodeBlock } from './block-codec.js';
import type { SampleColumns } from './sample-columns.js';

/**
 * A journal entry holds every reading of one group commit, for any number of devices:
 *
 *   u8 version (1), u8 reserved, u16 number of devices, then per device:
 *   u8 id length, the id (ASCII: DEVICE_ID_PATTERN), a block (block-codec.ts; its header gives its length)
 */
const VERSION = 1;

export interface JournalSegment {
  deviceId: string;
  columns: SampleColumns;
}

export function encodeJournalEntry(segments: readonly JournalSegment[]): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(4);
  header[0] = VERSION;
  header.writeUInt16LE(segments.length, 2);
  parts.push(header);
  for (const { deviceId, columns } of segments) {
    const id = Buffer.from(deviceId, 'latin1');
    parts.push(Buffer.from([id.length]), id, encodeBlock(columns));
  }
  return Buffer.concat(parts);
}

export function decodeJournalEntry(entry: Uint8Array): JournalSegment[] {
  const bytes = Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength);
  if (bytes[0] !== VERSION) throw new Error(`unknown journal entry version ${bytes[0]}`);
  const count = bytes.readUInt16LE(2);
  const segments: JournalSegment[] = [];
  let at = 4;
  for (let s = 0; s < count; s++) {
    const idLength = bytes[at];
    const deviceId = bytes.toString('latin1', at + 1, at + 1 + idLength);
    at += 1 + idLength;
    const block = bytes.subarray(at);
    segments.push({ deviceId, columns: decodeBlock(block) });
    at += blockByteLength(block);
  }
  return segments;
}
