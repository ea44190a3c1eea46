import { createHash } from 'node:crypto';

/**
 * The models table keeps a model as jsonb, which reorders keys and may respell numbers (1e-7 comes back as
 * 0.0000001). The checksum is therefore taken over a canonical text that survives that round trip: keys
 * sorted at every level, numbers as JavaScript prints them. The retrain job and the hub's model pull both
 * use it, so a hub can tell a model that arrived whole from one that was changed or cut on the way.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    // undefined, functions and symbols have no JSON form; in an array JSON.stringify writes null for them
    return text === undefined ? 'null' : text;
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** sha256 (hex) of the canonical JSON of a model: the `sha256` column of `models`. */
export function modelSha256(model: unknown): string {
  return createHash('sha256').update(canonicalJson(model)).digest('hex');
}
