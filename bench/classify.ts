/**
 * bench/classify: windows/s of the on-hub recognition (SPEC section 11: features + forest >= 1,000
 * windows/s on one core), on real windows of the shared recordings with the bundled model.
 *
 *   node --import tsx bench/classify.ts [--seconds N] [--data DIR]
 *
 * One JSON line per figure:
 *   features         feature extraction alone (all FEATURE_COUNT features)
 *   features+forest  motion gate, features and the forest: what each live window costs
 *   forest           the forest alone on precomputed features
 *   live             LiveRecognizer.push of raw readings (resampling and windowing included), in windows/s
 * each with the raw baseline measured in the same run: copying the window's samples and one fft.js real
 * transform per derived channel (the least any frequency-domain feature set must do).
 */
import { parseArgs } from 'node:util';
import FFT from 'fft.js';
import { defaultDataDir } from '../models/data-dir.js';
import { loadRecordings } from '../models/dataset.js';
import { FEATURE_CHANNELS, FEATURE_COUNT } from '../models/features/feature-list.js';
import { LiveRecognizer } from '../models/live.js';
import { loadBundledModel } from '../models/load-model.js';
import { Recognizer } from '../models/recognizer.js';
import { resample } from '../models/resample.js';
import { segmentWindows } from '../models/windowing.js';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '2' }, data: { type: 'string' } } });
const SECONDS = Number(args.seconds);

const bundled = await loadBundledModel();
const recognizer = new Recognizer(bundled);
const recordings = await loadRecordings(args.data ?? (await defaultDataDir(process.env)));
const windows = recordings.flatMap((r) =>
  resample(r.samples).flatMap((segment) => segmentWindows(segment, recognizer.shape).map((w) => ({ columns: segment.columns, offset: w.offset }))),
);
const extractor = recognizer.createExtractor();
const features = new Float64Array(FEATURE_COUNT);
const precomputed = windows.map((w) => extractor.extract(w.columns, w.offset).slice());

/** Runs `step(i)` round-robin over the windows for SECONDS (after a warm-up) and returns calls per second. */
function rate(step: (i: number) => number): number {
  let sink = 0;
  for (let i = 0; i < Math.min(200, windows.length); i++) sink += step(i);
  let calls = 0;
  const started = performance.now();
  const end = started + SECONDS * 1000;
  while (performance.now() < end) {
    for (let k = 0; k < 50; k++) sink += step(calls++ % windows.length);
  }
  const elapsedS = (performance.now() - started) / 1000;
  if (sink === Number.MIN_VALUE) process.stdout.write('');
  return calls / elapsedS;
}

const n = recognizer.shape.length;
const fft = new FFT(n);
const copy = Array.from({ length: 6 }, () => new Float64Array(n));
const fftIn = new Array<number>(n).fill(0);
const fftOut = fft.createComplexArray() as number[];
const baselinePerS = rate((i) => {
  const w = windows[i];
  for (let c = 0; c < 6; c++) for (let j = 0; j < n; j++) copy[c][j] = w.columns[c][w.offset + j];
  for (let ch = 0; ch < FEATURE_CHANNELS.length; ch++) {
    const src = copy[ch % 6];
    for (let j = 0; j < n; j++) fftIn[j] = src[j];
    fft.realTransform(fftOut, fftIn);
  }
  return fftOut[2];
});

function emit(figure: string, windowsPerS: number, extra: Record<string, unknown> = {}): void {
  process.stdout.write(
    `${JSON.stringify({
      bench: 'classify',
      figure,
      windowsPerS: Math.round(windowsPerS),
      baselineWindowsPerS: Math.round(baselinePerS),
      ratio: Number((windowsPerS / baselinePerS).toFixed(3)),
      target: figure === 'features+forest' ? 1000 : undefined,
      features: FEATURE_COUNT,
      trees: bundled.forest.baseModel.nEstimators,
      windowSamples: n,
      ...extra,
    })}\n`,
  );
}

emit('features', rate((i) => extractor.extract(windows[i].columns, windows[i].offset, features)[0]));
emit('features+forest', rate((i) => recognizer.classifyWindow(windows[i].columns, windows[i].offset, extractor, features).confidence));
emit('forest', rate((i) => recognizer.classifyFeatures(precomputed[i]).confidence));

// live: whole recordings pushed in batches of 10 readings, as devices send them
const batches = recordings.flatMap((r) => {
  const out = [];
  for (let i = 0; i < r.samples.length; i += 10) out.push(r.samples.slice(i, i + 10));
  return out;
});
let liveWindows = 0;
let live = new LiveRecognizer(recognizer);
const liveStarted = performance.now();
const liveEnd = liveStarted + SECONDS * 1000;
let b = 0;
while (performance.now() < liveEnd) {
  for (let k = 0; k < 20; k++) {
    if (b === batches.length) {
      b = 0;
      live = new LiveRecognizer(recognizer);
    }
    liveWindows += live.push(batches[b++]).length;
  }
}
emit('live', liveWindows / ((performance.now() - liveStarted) / 1000), { readingsPerBatch: 10 });
