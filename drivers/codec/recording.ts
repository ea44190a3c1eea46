/**
 * Reads a shared recording (../shared/data/barbell-imu): one format (c) line per sample,
 * node,millis,ax,ay,az,gx,gy,gz[,mx,my,mz]. A plain reader: no deduplication, no clock mapping; every line
 * that is not a sample is reported, none is skipped silently.
 */
import { CSV_BAD_NUMBER, parseCsvNumbers } from './csv-numbers.js';

export interface RecordingRow {
  node: number;
  /** Device ms since boot. */
  millis: number;
  /** ax, ay, az (m/s^2), gx, gy, gz (rad/s)[, mx, my, mz (uT)]. */
  values: number[];
}

export interface BadRecordingLine {
  /** 1-based line number. */
  line: number;
  text: string;
  reason: string;
}

export interface Recording {
  rows: RecordingRow[];
  badLines: BadRecordingLine[];
  /** Lines in the text (a final line ending does not start another line). */
  lineCount: number;
}

const MAX_FIELDS = 11;

export function parseRecordingCsv(text: string): Recording {
  const rows: RecordingRow[] = [];
  const badLines: BadRecordingLine[] = [];
  const fields = new Float64Array(MAX_FIELDS);
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const reason = readRow(line, fields, rows);
    if (reason) badLines.push({ line: i + 1, text: line, reason });
  });
  return { rows, badLines, lineCount: lines.length };
}

/** Appends the row and returns undefined, or returns why the line is not a row. */
function readRow(line: string, fields: Float64Array, rows: RecordingRow[]): string | undefined {
  if (line.length === 0) return 'empty line';
  const n = parseCsvNumbers(line, line.length, fields);
  if (n === CSV_BAD_NUMBER) return 'a field is not a number';
  if (n !== 8 && n !== 11) return `expected 8 or 11 fields, got ${n < 0 ? 'more than 11' : n}`;
  if (!Number.isInteger(fields[0])) return 'node is not an integer';
  for (let k = 1; k < n; k++) if (!Number.isFinite(fields[k])) return 'a value is not finite';
  rows.push({ node: fields[0], millis: fields[1], values: Array.from(fields.subarray(2, n)) });
  return undefined;
}
