import { InvalidCursorError } from './errors.js';

/**
 * Where the next page starts, by value rather than by storage position (blocks are rewritten as the journal
 * is compacted, the position would not stay valid): after the reading (ts, deviceId), of which `k` readings
 * with that very ts and device were already returned. Opaque to clients: base64url of JSON.
 */
export interface PageCursor {
  t: number;
  d: string;
  k: number;
}

export function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

export function decodeCursor(text: string): PageCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError(text);
  }
  const { t, d, k } = (parsed ?? {}) as Partial<PageCursor>;
  if (typeof t !== 'number' || !Number.isFinite(t) || typeof d !== 'string' || typeof k !== 'number' || !Number.isInteger(k) || k < 1) {
    throw new InvalidCursorError(text);
  }
  return { t, d, k };
}
