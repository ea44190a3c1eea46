import { setImmediate as nextTurn } from 'node:timers/promises';
import { labelledSessions, type LabelledSession, type SessionLister } from '../daemon/recognition/hub-training.js';
import type { ReadingSource } from '../daemon/recognition/session-tracker.js';
import { FEATURE_COUNT, REST_LABEL, Recognizer, resample, segmentWindows, sessionLabel, type ModelFile, type Sample } from '../models/index.js';
import { scoreClassification } from '../models/metrics.js';
import { motionLevel } from '../models/motion.js';

export interface ShadowScores {
  version: string;
  accuracy: number;
  macroF1: number;
  /** Share of sessions whose window vote is their label. */
  setAccuracy: number;
  windows: number;
}

export interface ShadowResult {
  sessions: number;
  windows: number;
  candidate: ShadowScores;
  active: ShadowScores;
}

export interface ShadowOptions {
  sessions: SessionLister;
  readings: ReadingSource;
  candidate: ModelFile;
  active: ModelFile;
  /** The newest labelled sessions used at most. */
  maxSessions?: number;
  signal?: AbortSignal;
}

export const DEFAULT_SHADOW_SESSIONS = 200;
/** Readings of one session at most (its first 10 min at 100 Hz; a set is a minute or two): bounds memory. */
const MAX_SESSION_READINGS = 60_000;
/** Windows classified between two turns of the event loop: the hub keeps ingesting meanwhile. */
const WINDOWS_PER_TURN = 16;

/**
 * Scores a model the hub was offered (the candidate) and the active one on the hub's own ended, labelled
 * sessions, window by window as live recognition sees them (the session's candidates, each model's smoothing),
 * without putting the candidate to use. It runs on the daemon's thread in small slices; when both models window
 * the same way, each window's features are computed once for both.
 */
export async function shadowEvaluate(options: ShadowOptions): Promise<ShadowResult> {
  const scorers = [new Scorer(new Recognizer(options.candidate)), new Scorer(new Recognizer(options.active))];
  const sameWindows = windowingOf(options.candidate) === windowingOf(options.active);
  const groups = sameWindows ? [scorers] : scorers.map((s) => [s]);
  let sessions = 0;
  let sinceTurn = 0;
  for (const session of await labelledSessions(options.sessions, options.maxSessions ?? DEFAULT_SHADOW_SESSIONS)) {
    options.signal?.throwIfAborted();
    const samples = await readSamples(options.readings, session);
    if (samples.length === 0) continue;
    sessions++;
    for (const group of groups) {
      const first = group[0].recognizer;
      const extractor = first.createExtractor();
      const features = new Float64Array(FEATURE_COUNT);
      const labels = group.map(() => [] as string[]);
      // As live recognition scores them: restricted to the session's candidates, each model with its own smoothing.
      const masks = group.map((scorer) => scorer.recognizer.candidateMask(session.candidates));
      const smoothers = group.map((scorer) => scorer.recognizer.createSmoother());
      for (const segment of resample(samples, { rateHz: first.model.rateHz, maxGapMs: first.model.maxGapMs })) {
        for (const smoother of smoothers) smoother.reset();
        for (const w of segmentWindows(segment, first.shape)) {
          const motion = motionLevel(segment.columns, w.offset, w.length);
          let extracted = false;
          group.forEach((scorer, i) => {
            if (scorer.recognizer.isRest(motion)) {
              smoothers[i].reset();
              return labels[i].push(REST_LABEL);
            }
            if (!extracted) extractor.extract(segment.columns, w.offset, features);
            extracted = true;
            labels[i].push(scorer.recognizer.classifyFeatures(features, masks[i], smoothers[i]).label);
          });
          if (++sinceTurn >= WINDOWS_PER_TURN) {
            sinceTurn = 0;
            await nextTurn();
            options.signal?.throwIfAborted();
          }
        }
      }
      group.forEach((scorer, i) => scorer.add(session.label, labels[i]));
    }
  }
  const [candidate, active] = scorers.map((s) => s.scores());
  return { sessions, windows: candidate.windows, candidate, active };
}

function windowingOf(model: ModelFile): string {
  return JSON.stringify([model.rateHz, model.windowS, model.overlap, model.maxGapMs]);
}

class Scorer {
  private readonly truth: string[] = [];
  private readonly predicted: string[] = [];
  private sets = 0;
  private setsRight = 0;

  constructor(readonly recognizer: Recognizer) {}

  add(label: string, labels: readonly string[]): void {
    for (const predicted of labels) {
      this.truth.push(label);
      this.predicted.push(predicted);
    }
    this.sets++;
    if (labels.length > 0 && sessionLabel(labels).label === label) this.setsRight++;
  }

  scores(): ShadowScores {
    const trueLabels = [...new Set(this.truth)].sort();
    const order = [...trueLabels, ...this.recognizer.labels.filter((l) => !trueLabels.includes(l))];
    const { accuracy, macroF1 } = scoreClassification(this.truth, this.predicted, order);
    return {
      version: this.recognizer.version,
      accuracy: this.truth.length > 0 ? accuracy : 0,
      macroF1: this.truth.length > 0 ? macroF1 : 0,
      setAccuracy: this.sets > 0 ? this.setsRight / this.sets : 0,
      windows: this.truth.length,
    };
  }
}

async function readSamples(readings: ReadingSource, session: LabelledSession): Promise<Sample[]> {
  const samples: Sample[] = [];
  for await (const chunk of readings.iterate(session.deviceId, session.startedAt, session.endedAt)) {
    for (const r of chunk) {
      if (samples.length === MAX_SESSION_READINGS) return samples;
      samples.push({ ts: r.ts, accel: r.accel, gyro: r.gyro });
    }
  }
  return samples;
}
