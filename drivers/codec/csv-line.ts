/** Reads one serial CSV line, format (c): node,millis,ax,ay,az,gx,gy,gz[,mx,my,mz]. */
import { CSV_BAD_NUMBER, parseCsvNumbers } from './csv-numbers.js';
import type { SampleSink } from './sample-sink.js';

export const CSV_MAX_FIELDS = 11;

/**
 * Hands the sample of line[0, end) to the sink, as a sample of the transport's device (the node column must
 * be an integer and is otherwise ignored). fields is scratch space of CSV_MAX_FIELDS.
 */
export function walkCsvLine(line: string, end: number, sink: SampleSink, fields: Float64Array): void {
  const n = parseCsvNumbers(line, end, fields);
  if (n === CSV_BAD_NUMBER) return sink.reject(undefined, 'parse', 'not a CSV line of numbers');
  if (n !== 8 && n !== 11) return sink.reject(undefined, 'shape', 'a CSV line must be node,millis,ax,ay,az,gx,gy,gz[,mx,my,mz]');
  if (!Number.isInteger(fields[0])) return sink.reject(undefined, 'shape', 'the node column must be an integer');
  const state = sink.device(undefined, 0, 1);
  if (!state) return;
  const scale = sink.scale(state);
  const d = sink.draft;
  d.reset();
  d.time = fields[1];
  for (let k = 0; k < 3; k++) {
    d.values[k] = fields[2 + k] * scale.accel;
    d.values[3 + k] = fields[5 + k] * scale.gyro;
  }
  if (n === 11) {
    d.values[6] = fields[8];
    d.values[7] = fields[9];
    d.values[8] = fields[10];
    d.hasMag = true;
  }
  sink.sample(state, 0, true);
}
