/**
 * Codec decode throughput (SPEC section 11), one JSON line per wire format, each with a raw baseline
 * measured in the same run (the cheapest thing that reads the same bytes into numbers at all):
 *   b-compact-10   format (b) messages of 10 samples as MQTT delivers them (Buffers); baseline JSON.parse
 *   c-csv-line     format (c) lines as the serial framer hands them over; baseline split(',').map(Number)
 *   d-ble-frame    format (d) frames of 10 samples; baseline DataView reads of every value
 * 50 devices interleaved, every sample new (no duplicates). Options: --seconds N per figure (default 2).
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { systemClock } from '../daemon/clock.js';
import { Codec } from '../drivers/codec/codec.js';
import type { DecodeContext } from '../drivers/codec/types.js';
import { encodeBleFrame, encodeCompactBatch, encodeCsvLine } from '../drivers/codec/encode.js';
import type { Transport } from '../drivers/reading.js';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '2' } } });
const SECONDS = Number(args.seconds);
const DEVICES = 50;
const MESSAGES_PER_DEVICE = 400;
const SAMPLES_PER_MESSAGE = 10;
const SAMPLE_PERIOD_MS = 10;
const T0 = Date.UTC(2026, 0, 1);

const deviceIds = Array.from({ length: DEVICES }, (_, d) => `ESP32_${String(d).padStart(3, '0')}`);

function sample(i: number): number[] {
  return [0.23 + (i % 97) * 0.01, -0.01 - (i % 13) * 0.001, 9.85, 0.01 * (i % 31), 0.012, -0.003 * (i % 7)];
}

interface Workload<P> {
  name: string;
  transport: Transport;
  /** Interleaved over the devices, in arrival order. */
  payloads: { payload: P; deviceId: string; receivedAt: number }[];
  readingsPerPass: number;
  decode(codec: Codec, payload: P, ctx: DecodeContext): number;
  /** Returns the samples it read, so that the work cannot be optimised away. */
  baseline(payload: P): number;
}

function interleave<P>(make: (deviceIndex: number, m: number) => { payload: P; receivedAt: number }) {
  const out: { payload: P; deviceId: string; receivedAt: number }[] = [];
  for (let m = 0; m < MESSAGES_PER_DEVICE; m++) {
    for (let d = 0; d < DEVICES; d++) out.push({ ...make(d, m), deviceId: deviceIds[d] });
  }
  return out;
}

const compact: Workload<Buffer> = {
  name: 'b-compact-10',
  transport: 'mqtt',
  payloads: interleave((d, m) => {
    const t0 = T0 + m * SAMPLES_PER_MESSAGE * SAMPLE_PERIOD_MS;
    const samples = Array.from({ length: SAMPLES_PER_MESSAGE }, (_, i) => sample(m * SAMPLES_PER_MESSAGE + i + d));
    const json = encodeCompactBatch({ deviceId: deviceIds[d], t0, dtMs: SAMPLE_PERIOD_MS, seq: m * SAMPLES_PER_MESSAGE, samples });
    return { payload: Buffer.from(json), receivedAt: t0 + (SAMPLES_PER_MESSAGE - 1) * SAMPLE_PERIOD_MS + 5 };
  }),
  readingsPerPass: DEVICES * MESSAGES_PER_DEVICE * SAMPLES_PER_MESSAGE,
  decode: (codec, payload, ctx) => codec.decodeJson(payload, ctx).readings.length,
  baseline: (payload) => (JSON.parse(payload.toString('utf8')) as { s: unknown[] }).s.length,
};

const CSV_LINES_PER_DEVICE = MESSAGES_PER_DEVICE * SAMPLES_PER_MESSAGE;
const csv: Workload<string> = {
  name: 'c-csv-line',
  transport: 'serial',
  payloads: (() => {
    const out: { payload: string; deviceId: string; receivedAt: number }[] = [];
    for (let i = 0; i < CSV_LINES_PER_DEVICE; i++) {
      for (let d = 0; d < DEVICES; d++) {
        const v = sample(i + d);
        out.push({ payload: encodeCsvLine(1, 567_233 + i * SAMPLE_PERIOD_MS, [...v, 47.165, -42.926, 89.798].map((x) => Number(x.toFixed(3)))), deviceId: deviceIds[d], receivedAt: T0 + i * SAMPLE_PERIOD_MS });
      }
    }
    return out;
  })(),
  readingsPerPass: DEVICES * CSV_LINES_PER_DEVICE,
  decode: (codec, line, ctx) => codec.decodeLine(line, ctx).readings.length,
  baseline: (line) => (line.split(',').map(Number).length > 0 ? 1 : 0),
};

const ble: Workload<Uint8Array> = {
  name: 'd-ble-frame',
  transport: 'ble',
  payloads: interleave((d, m) => {
    const t0 = 100_000 + m * SAMPLES_PER_MESSAGE * SAMPLE_PERIOD_MS;
    const samples = Array.from({ length: SAMPLES_PER_MESSAGE }, (_, i) => sample(m * SAMPLES_PER_MESSAGE + i + d));
    const frame = encodeBleFrame({ seq: m * SAMPLES_PER_MESSAGE, t0, dtUs: SAMPLE_PERIOD_MS * 1000, samples });
    return { payload: frame, receivedAt: T0 + m * SAMPLES_PER_MESSAGE * SAMPLE_PERIOD_MS + 95 };
  }),
  readingsPerPass: DEVICES * MESSAGES_PER_DEVICE * SAMPLES_PER_MESSAGE,
  decode: (codec, frame, ctx) => codec.decodeBle(frame, ctx).readings.length,
  baseline: (frame) => {
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    let sum = 0;
    for (let at = 11; at < frame.byteLength; at += 2) sum += view.getInt16(at, true);
    // The comparison keeps the reads alive; a sum of int16s never gets there.
    return sum === Number.MAX_SAFE_INTEGER ? 0 : frame[10];
  },
};

/** Runs passes over the workload for SECONDS; the codec forgets the devices between passes. */
function measure<P>(w: Workload<P>, run: (p: { payload: P; deviceId: string; receivedAt: number }) => number, between: () => void): number {
  let readings = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  while (performance.now() < deadline) {
    for (const p of w.payloads) readings += run(p);
    between();
  }
  return readings / ((performance.now() - started) / 1000);
}

function bench<P>(w: Workload<P>): void {
  const codec = new Codec({ clock: systemClock, log: pino({ level: 'silent' }) });
  const forgetAll = () => deviceIds.forEach((id) => codec.forget(id));
  const decode = (p: { payload: P; deviceId: string; receivedAt: number }) =>
    w.decode(codec, p.payload, { transport: w.transport, receivedAt: p.receivedAt, deviceId: p.deviceId });
  // One pass first, so that every sample of it is checked to come out, and the JIT is warm.
  let firstPass = 0;
  for (const p of w.payloads) firstPass += decode(p);
  forgetAll();
  if (firstPass !== w.readingsPerPass) throw new Error(`${w.name}: ${firstPass} readings of ${w.readingsPerPass}`);
  const baselinePerS = measure(w, (p) => w.baseline(p.payload), () => undefined);
  const readingsPerS = measure(w, decode, forgetAll);
  codec.close();
  process.stdout.write(
    `${JSON.stringify({ bench: 'codec', figure: w.name, readingsPerS: Math.round(readingsPerS), baselineReadingsPerS: Math.round(baselinePerS), ratio: Number((readingsPerS / baselinePerS).toFixed(3)), samplesPerPayload: w.readingsPerPass / w.payloads.length })}\n`,
  );
}

bench(compact);
bench(csv);
bench(ble);
