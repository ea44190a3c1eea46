import {
  FEATURE_COUNT,
  Recognizer,
  buildTrainingSet,
  resample,
  segmentWindows,
  sessionLabel,
  trainModelFromSet,
  type ModelFile,
  type Sample,
  type TrainOptions,
} from '../../models/index.js';
import { scoreClassification, type ClassificationScores } from '../../models/metrics.js';
import type { TrainingSet } from '../../models/train.js';

/** A labelled session's readings, packed for a worker's message: ts, and accel + gyro as 6 numbers each. */
export interface PackedSession {
  id: string;
  label: string;
  ts: Float64Array;
  values: Float64Array;
}

export interface HeldOutScores extends ClassificationScores {
  model: string;
  windows: number;
  sets: number;
  /** Share of held-out sessions whose vote is their label. */
  setAccuracy: number;
}

export interface TrainerOutcome {
  model: ModelFile;
  trainSessions: number;
  trainWindows: number;
  /** Scores on the held-out sessions: the new model and the model active when training started. */
  candidate: HeldOutScores;
  current: HeldOutScores;
}

export interface HubTrainerOptions {
  train: TrainOptions;
  /** The model active when training started: scored on the same held-out sessions. */
  current: ModelFile;
  /** Training windows at most (rows of ~500 features: ~4 KB each); later sessions are left out. */
  maxTrainWindows: number;
}

/**
 * The CPU-heavy half of training on the hub, fed one session at a time so that only feature rows are kept,
 * never all the sessions' readings: training sessions first, then fit(), then held-out sessions, each
 * classified by the new and the current model as it comes. Runs in a worker thread (train-worker.ts) or,
 * where that is not possible, in the daemon's own thread.
 */
export class HubTrainer {
  private readonly set: TrainingSet = { classes: [], rows: [], labels: [], groups: [], restWindows: 0 };
  private sessions = 0;
  private model: ModelFile | undefined;
  private readonly scorers: WindowScorer[] = [];

  constructor(private readonly options: HubTrainerOptions) {}

  /** Adds a training session; returns its windows (0 once maxTrainWindows is reached). */
  addTrainingSession(session: PackedSession): number {
    if (this.model) throw new Error('training sessions must come before fit()');
    if (this.set.rows.length >= this.options.maxTrainWindows) return 0;
    const part = buildTrainingSet([{ label: session.label, samples: unpack(session), group: session.id }], this.options.train);
    let label = this.set.classes.indexOf(session.label);
    if (label < 0) label = this.set.classes.push(session.label) - 1;
    for (const row of part.rows) {
      this.set.rows.push(row);
      this.set.labels.push(label);
      this.set.groups.push(session.id);
    }
    this.set.restWindows += part.restWindows;
    this.sessions++;
    return part.rows.length;
  }

  /** Trains the forest; throws ModelError 'invalid_dataset' without windows of two exercises. */
  fit(): { version: string; classes: string[] } {
    // classes sorted, so the same sessions give the same model whatever order they came in
    const classes = [...this.set.classes].sort();
    const remap = this.set.classes.map((c) => classes.indexOf(c));
    const set: TrainingSet = { ...this.set, classes, labels: this.set.labels.map((y) => remap[y]) };
    this.model = trainModelFromSet(set, this.options.train);
    this.scorers.push(new WindowScorer(new Recognizer(this.model)), new WindowScorer(new Recognizer(this.options.current)));
    return { version: this.model.version, classes: [...this.model.classes] };
  }

  addTestSession(session: PackedSession): void {
    if (!this.model) throw new Error('fit() must come before held-out sessions');
    const samples = unpack(session);
    for (const scorer of this.scorers) scorer.add(session.label, samples);
  }

  outcome(): TrainerOutcome {
    if (!this.model) throw new Error('fit() has not run');
    return {
      model: this.model,
      trainSessions: this.sessions,
      trainWindows: this.set.rows.length,
      candidate: this.scorers[0].scores(),
      current: this.scorers[1].scores(),
    };
  }
}

/**
 * Window labels of held-out sessions by one model, scored at the end like models' evaluateSets: each session
 * a stream of its own, with the model's temporal smoothing, as the hub would have reported them live.
 */
class WindowScorer {
  private readonly truth: string[] = [];
  private readonly predicted: string[] = [];
  private sets = 0;
  private setsRight = 0;
  private readonly extractor;
  private readonly features = new Float64Array(FEATURE_COUNT);

  constructor(private readonly recognizer: Recognizer) {
    this.extractor = recognizer.createExtractor();
  }

  add(label: string, samples: readonly Sample[]): void {
    const model = this.recognizer.model;
    const labels: string[] = [];
    const smoother = this.recognizer.createSmoother();
    for (const segment of resample(samples, { rateHz: model.rateHz, maxGapMs: model.maxGapMs })) {
      smoother.reset();
      for (const w of segmentWindows(segment, this.recognizer.shape)) {
        labels.push(this.recognizer.classifyWindow(segment.columns, w.offset, this.extractor, this.features, undefined, smoother).label);
      }
    }
    for (const predicted of labels) {
      this.truth.push(label);
      this.predicted.push(predicted);
    }
    this.sets++;
    if (labels.length > 0 && sessionLabel(labels).label === label) this.setsRight++;
  }

  scores(): HeldOutScores {
    const trueLabels = [...new Set(this.truth)].sort();
    const order = [...trueLabels, ...this.recognizer.labels.filter((l) => !trueLabels.includes(l))];
    return {
      model: this.recognizer.version,
      ...scoreClassification(this.truth, this.predicted, order),
      windows: this.truth.length,
      sets: this.sets,
      setAccuracy: this.sets > 0 ? this.setsRight / this.sets : 0,
    };
  }
}

export function unpack(session: PackedSession): Sample[] {
  const { ts, values } = session;
  const samples: Sample[] = new Array(ts.length);
  for (let i = 0; i < ts.length; i++) {
    const o = i * 6;
    samples[i] = { ts: ts[i], accel: [values[o], values[o + 1], values[o + 2]], gyro: [values[o + 3], values[o + 4], values[o + 5]] };
  }
  return samples;
}
