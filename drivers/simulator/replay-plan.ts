/**
 * Turns a recording (rows of device millis + values, as the real sensor sent them) into what a device would
 * put on each transport, with the moment (relative to the first row, in device ms) it would send it.
 */
export interface RecordingRow {
  node: number;
  millis: number;
  values: number[];
}

export interface PlannedBatch {
  /** Device ms after the first row at which the batch is complete and sent. */
  atMs: number;
  /** Device ms of the batch's first sample, relative to the first row. */
  t0Ms: number;
  dtMs: number;
  seq: number;
  samples: number[][];
}

export const BATCH_SPAN_MAX_MS = 200;
export const BATCH_SAMPLES_MAX = 20;
/** A pause longer than this ends a batch: format (b) has one fixed interval per batch and must not span a gap. */
export const BATCH_GAP_MS = 250;

/**
 * Format (b) batches, as a device streaming compact JSON would send them: a device of that kind samples at a
 * fixed rate, so rows that merely repeat the previous sensor read (same six accel+gyro values, ~31% of the
 * real recordings) are not new samples and are left out; a batch never spans a gap; its dt is the mean
 * interval of its samples, rounded to 0.1 ms. `seq` counts samples, so the hub's gap accounting stays right.
 */
export function planCompactBatches(rows: RecordingRow[]): PlannedBatch[] {
  const batches: PlannedBatch[] = [];
  if (rows.length === 0) return batches;
  const origin = rows[0].millis;
  let seq = 0;
  let current: { first: number; last: number; samples: number[][] } | undefined;
  let previous: number[] | undefined;

  const close = () => {
    if (!current) return;
    const count = current.samples.length;
    const dtMs = count > 1 ? Math.round(((current.last - current.first) / (count - 1)) * 10) / 10 : 10;
    batches.push({ atMs: current.last - origin, t0Ms: current.first - origin, dtMs: Math.max(dtMs, 0.1), seq, samples: current.samples });
    seq += count;
    current = undefined;
  };

  for (const row of rows) {
    if (previous && sameSensorRead(previous, row.values)) continue;
    previous = row.values;
    if (current && (row.millis - current.last > BATCH_GAP_MS || row.millis - current.first > BATCH_SPAN_MAX_MS || current.samples.length >= BATCH_SAMPLES_MAX)) close();
    if (!current) current = { first: row.millis, last: row.millis, samples: [] };
    current.last = row.millis;
    current.samples.push(row.values);
  }
  close();
  return batches;
}

function sameSensorRead(a: number[], b: number[]): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}
