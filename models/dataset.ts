import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelError } from './errors.js';
import type { Sample } from './sample.js';

/**
 * Recordings laid out like shared/data/barbell-imu: one folder per exercise (the folder name is the true
 * label), one CSV file per set named `<exercise>_<lifter>_set<N>_rep[s]<R>_<k>.csv`.
 */
export interface RecordingInfo {
  path: string;
  file: string;
  label: string;
  lifter: string;
  set: number;
  /** Reps performed, from the file name; undefined when the name does not say. */
  reps?: number;
}

export interface Recording extends RecordingInfo {
  samples: Sample[];
}

const NAME_PATTERN = /_([A-Za-z]+)_set(\d+)_reps?(\d+)(?:_\d+)?\.csv$/i;
const LOOSE_NAME_PATTERN = /^[^_]+(?:_curl|_press)?_([A-Za-z]+)_/i;

export function parseRecordingName(file: string): { lifter: string; set: number; reps?: number } {
  const match = NAME_PATTERN.exec(file);
  if (match) return { lifter: match[1].toLowerCase(), set: Number(match[2]), reps: Number(match[3]) };
  const loose = LOOSE_NAME_PATTERN.exec(file);
  return { lifter: loose ? loose[1].toLowerCase() : 'unknown', set: 0 };
}

/**
 * Parses the serial CSV line format `node,millis,ax,ay,az,gx,gy,gz[,mx,my,mz]`. Lines that are not that
 * (headers, garbled lines, non-finite numbers) are skipped: real recordings contain a few.
 */
export function parseRecordingCsv(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const parts = line.split(',');
    if (parts.length < 8) continue;
    const values = new Array<number>(7);
    let ok = true;
    for (let i = 0; i < 7; i++) {
      const v = Number(parts[i + 1]);
      if (!Number.isFinite(v) || parts[i + 1].trim() === '') {
        ok = false;
        break;
      }
      values[i] = v;
    }
    if (!ok) continue;
    samples.push({ ts: values[0], accel: [values[1], values[2], values[3]], gyro: [values[4], values[5], values[6]] });
  }
  return samples;
}

/** Lists the recordings under `dir`, sorted by label then file name so that every run sees the same order. */
export async function listRecordings(dir: string): Promise<RecordingInfo[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new ModelError('invalid_dataset', `cannot read dataset directory ${dir}: ${(err as Error).message}`, { dir });
  }
  const infos: RecordingInfo[] = [];
  const labels = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  for (const label of labels) {
    const files = (await readdir(join(dir, label))).filter((f) => f.toLowerCase().endsWith('.csv')).sort();
    for (const file of files) {
      infos.push({ path: join(dir, label, file), file, label, ...parseRecordingName(file) });
    }
  }
  if (infos.length === 0) {
    throw new ModelError('invalid_dataset', `no recordings (<label>/<file>.csv) under ${dir}`, { dir });
  }
  return infos;
}

export async function loadRecording(info: RecordingInfo): Promise<Recording> {
  const text = await readFile(info.path, 'utf8');
  return { ...info, samples: parseRecordingCsv(text) };
}

export async function loadRecordings(dir: string): Promise<Recording[]> {
  const infos = await listRecordings(dir);
  return Promise.all(infos.map(loadRecording));
}
