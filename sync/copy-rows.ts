import type { Reading } from '../drivers/reading.js';

/** The columns of `readings`, in the order of a COPY row's fields. */
export const COPY_COLUMNS = ['hub_id', 'device_id', 'session_id', 'ts', 'seq', 'ax', 'ay', 'az', 'gx', 'gy', 'gz', 'mx', 'my', 'mz', 'temp'] as const;
/** Postgres' NULL in COPY's text format. */
const NULL = '\\N';
/** The seq of a reading its device sent without one (part of the readings' key in Postgres). */
export const NO_SEQ = -1;

/**
 * Readings of one session as COPY text rows, each distinct reading once. Postgres keys a reading by
 * (device, ts, seq); the store can hold the same reading twice (a broker redelivered it after a hub crash),
 * and the session's reading_count is what Postgres can hold: distinct keys. The store gives a device's
 * readings sorted by ts, so only the seqs seen at the current ts need remembering.
 */
export class CopyRows {
  private text = '';
  private rows = 0;
  private distinctTotal = 0;
  private currentTs = Number.NaN;
  private readonly seqsAtTs = new Set<number>();

  /** `prefix`: the row's first fields (hub, device and session ids, tab-separated, with a trailing tab). */
  constructor(private readonly prefix: string) {}

  /** Appends the readings of chunk[start, end) that are new; returns how many rows are buffered. */
  add(chunk: readonly Reading[], start = 0, end = chunk.length): number {
    let text = '';
    for (let i = start; i < end; i++) {
      const r = chunk[i]!;
      const seq = r.seq ?? NO_SEQ;
      if (r.ts !== this.currentTs) {
        this.currentTs = r.ts;
        this.seqsAtTs.clear();
      } else if (this.seqsAtTs.has(seq)) {
        continue;
      }
      this.seqsAtTs.add(seq);
      // Values are already float32-rounded by the store: their shortest decimal form parses back to the same
      // float32 in a `real` column.
      text += `${this.prefix}${r.ts}\t${seq}\t${r.accel[0]}\t${r.accel[1]}\t${r.accel[2]}\t${r.gyro[0]}\t${r.gyro[1]}\t${r.gyro[2]}\t`;
      text += r.mag ? `${r.mag[0]}\t${r.mag[1]}\t${r.mag[2]}\t` : `${NULL}\t${NULL}\t${NULL}\t`;
      text += r.temp === undefined ? `${NULL}\n` : `${r.temp}\n`;
      this.rows++;
      this.distinctTotal++;
    }
    this.text += text;
    return this.rows;
  }

  get buffered(): number {
    return this.rows;
  }

  /** Distinct readings seen so far in the session (sent or buffered). */
  get distinct(): number {
    return this.distinctTotal;
  }

  /** The buffered rows as one COPY payload, and an empty buffer. */
  take(): { payload: Buffer; rows: number } {
    const out = { payload: Buffer.from(this.text, 'utf8'), rows: this.rows };
    this.text = '';
    this.rows = 0;
    return out;
  }
}
