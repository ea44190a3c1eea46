import type { Reading } from '../../drivers/reading.js';
import type { Session } from './types.js';

/** The source of a session's readings: ReadingStore.iterate (chunks, oldest first, never all in memory). */
export interface SessionReadingSource {
  iterate(deviceId: string, from?: number, to?: number): AsyncIterable<Reading[]>;
}

/** Format (c) of SPEC section 3, with the reading's hub timestamp added as the last column. */
export const CSV_COLUMNS = ['node', 'millis', 'ax', 'ay', 'az', 'gx', 'gy', 'gz'] as const;
export const CSV_MAG_COLUMNS = ['mx', 'my', 'mz'] as const;
export const CSV_TS_COLUMN = 'ts';
/** Exports carry one sensor node: the session's device. */
const CSV_NODE = 1;

/** A session's readings: the device's readings with startedAt <= ts < endedAt (to now while active). */
export function sessionRange(session: Session): { from: number; to: number } {
  return { from: session.startedAt, to: session.endedAt ?? Infinity };
}

/**
 * An export that has already read its first chunk: the CSV header depends on it, and a store that cannot be
 * read fails the request with a proper error status instead of a broken download.
 */
export interface OpenedExport {
  first: Reading[];
  rest: AsyncIterator<Reading[]>;
}

export async function openExport(source: SessionReadingSource, session: Session): Promise<OpenedExport> {
  const { from, to } = sessionRange(session);
  const rest = source.iterate(session.deviceId, from, to)[Symbol.asyncIterator]();
  const first = await rest.next();
  return { first: first.done ? [] : first.value, rest };
}

/**
 * CSV lines `node,millis,ax,ay,az,gx,gy,gz[,mx,my,mz],ts` with a header line; millis = ms since the
 * session's start (rounded), ts = the hub timestamp (ms since the epoch). The mag columns are there when the
 * session's first readings have a magnetometer; a later reading without one leaves them empty.
 */
export async function* csvChunks(session: Session, opened: OpenedExport): AsyncGenerator<string, void, undefined> {
  const withMag = opened.first.some((r) => r.mag !== undefined);
  const columns: string[] = [...CSV_COLUMNS, ...(withMag ? CSV_MAG_COLUMNS : []), CSV_TS_COLUMN];
  yield* exportChunks(opened, `${columns.join(',')}\n`, (chunk) => {
    let text = '';
    for (const r of chunk) text += csvLine(r, session.startedAt, withMag);
    return text;
  }, '');
}

/** A JSON array of canonical readings (SPEC section 3), written chunk by chunk. */
export async function* jsonChunks(opened: OpenedExport): AsyncGenerator<string, void, undefined> {
  let first = true;
  yield* exportChunks(opened, '[', (chunk) => {
    let text = '';
    for (const r of chunk) {
      text += first ? JSON.stringify(r) : `,${JSON.stringify(r)}`;
      first = false;
    }
    return text;
  }, ']');
}

export function csvLine(r: Reading, startedAt: number, withMag: boolean): string {
  let line = `${CSV_NODE},${Math.round(r.ts - startedAt)},${r.accel[0]},${r.accel[1]},${r.accel[2]},${r.gyro[0]},${r.gyro[1]},${r.gyro[2]}`;
  if (withMag) line += r.mag ? `,${r.mag[0]},${r.mag[1]},${r.mag[2]}` : ',,,';
  return `${line},${r.ts}\n`;
}

async function* exportChunks(opened: OpenedExport, head: string, format: (chunk: Reading[]) => string, tail: string): AsyncGenerator<string, void, undefined> {
  try {
    yield head;
    if (opened.first.length > 0) yield format(opened.first);
    for (;;) {
      const next = await opened.rest.next();
      if (next.done) break;
      if (next.value.length > 0) yield format(next.value);
    }
    if (tail) yield tail;
  } finally {
    // A client that hangs up mid-download closes the generator here: the store's iterator must close too.
    await opened.rest.return?.();
  }
}
