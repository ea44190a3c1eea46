import type { Level } from 'level';
import { BadRequestError } from '../errors.js';
import type { Prediction } from '../sessions/types.js';
import { deviceOfPredictionKey, devicePrefixAt, deviceRange, keyTs, keyTsOf, readValue, type LabelTable } from './prediction-codec.js';

/** Where the next page starts: after the prediction at key time `t` of device `d`. Opaque to clients. */
export interface PredictionCursor {
  t: number;
  d: string;
}

/** A stored prediction as a page sees it before decoding: its key time and device. */
export interface PageRow {
  t: number;
  deviceId: string;
  decode(): Prediction;
}

export function encodePredictionCursor(cursor: PredictionCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

export function decodePredictionCursor(text: string): PredictionCursor {
  try {
    const { t, d } = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<PredictionCursor>;
    if (typeof t === 'number' && Number.isInteger(t) && t >= 0 && typeof d === 'string') return { t: keyTs(t), d };
  } catch {
    // reported below
  }
  throw new BadRequestError('invalid cursor', undefined, 'bad_cursor');
}

/** One device's rows with window start in [from, to) after the cursor, lazily, oldest first. */
export async function* scanDevice(
  db: Level<string, Buffer>,
  tables: readonly LabelTable[],
  deviceId: string,
  range: { from: number; to: number; cursor?: PredictionCursor; sessionId?: string },
): AsyncGenerator<PageRow> {
  const { from, to, cursor, sessionId } = range;
  let gte = devicePrefixAt(deviceId, from);
  if (cursor) {
    // after (t, d): a device sorting after d may still have a window at t; the others start at t + 1
    const resume = devicePrefixAt(deviceId, deviceId > cursor.d ? cursor.t : cursor.t + 1);
    if (resume > gte) gte = resume;
  }
  const lt = to === Infinity ? deviceRange(deviceId).lt : devicePrefixAt(deviceId, to);
  for await (const [key, value] of db.iterator({ gte, lt })) {
    const row = readValue(value);
    if (sessionId !== undefined && row.sessionId !== sessionId) continue;
    const table = tables[row.modelIndex];
    if (!table) continue;
    yield { t: keyTsOf(key), deviceId: deviceOfPredictionKey(key), decode: () => row.decode(deviceId, table) };
  }
}

/**
 * Up to `limit` rows of several devices' scans, ordered by (time, deviceId). Each scan is read lazily, so a
 * page reads about `limit` rows plus one per device, and every scan is closed (its LevelDB iterator too).
 */
export async function mergeDevicePages(scans: AsyncGenerator<PageRow>[], limit: number): Promise<PageRow[]> {
  const heads: (PageRow | undefined)[] = [];
  const out: PageRow[] = [];
  try {
    for (const scan of scans) heads.push((await scan.next()).value ?? undefined);
    while (out.length < limit) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) {
        const row = heads[i];
        if (!row) continue;
        const current = best >= 0 ? heads[best]! : undefined;
        if (!current || row.t < current.t || (row.t === current.t && row.deviceId < current.deviceId)) best = i;
      }
      if (best < 0) break;
      out.push(heads[best]!);
      heads[best] = (await scans[best].next()).value ?? undefined;
    }
  } finally {
    await Promise.all(scans.map((scan) => scan.return(undefined)));
  }
  return out;
}
