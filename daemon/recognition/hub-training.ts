import type { Logger } from 'pino';
import { BUNDLED_TRAIN_OPTIONS, REST_LABEL, UNKNOWN_LABEL, isModelError, type ModelFile, type TrainOptions } from '../../models/index.js';
import { GymhubError } from '../errors.js';
import type { Session } from '../sessions/types.js';
import type { PackedSession, TrainerOutcome } from './hub-trainer.js';
import type { ReadingSource } from './session-tracker.js';
import { openTrainerPort } from './trainer-port.js';

/** Ended sessions, newest first, paged (SessionService.list fits). */
export interface SessionLister {
  list(query: { status?: 'active' | 'ended'; limit?: number; cursor?: string }): Promise<{ items: Session[]; nextCursor: string | null }>;
}

export interface HubTrainingOptions {
  sessions: SessionLister;
  readings: ReadingSource;
  log: Logger;
  /** The recipe; the bundled model's by default (tempo augmentation, 60 trees, seed 42). */
  trainOptions?: TrainOptions;
  maxTrainWindows?: number;
  useWorker?: boolean;
  /** Every `testEvery`-th session of each label (in time order) is held out for the metrics. */
  testEvery?: number;
}

export interface HubTrainingRun {
  /** The model active when training started. */
  current: ModelFile;
  seed?: number;
  /** Aborting stops the run between sessions and terminates the worker (the hub is stopping). */
  signal?: AbortSignal;
}

export interface HubTrainingResult extends TrainerOutcome {
  testSessions: number;
  mode: 'worker' | 'in-thread';
}

export const DEFAULT_MAX_TRAIN_WINDOWS = 20_000;
const DEFAULT_TEST_EVERY = 5;
/** Sessions considered at most, newest first. */
const MAX_SESSIONS = 5000;
/** Readings read from one session at most (about 80 min at 100 Hz). */
const MAX_SESSION_READINGS = 500_000;
const LIST_PAGE = 1000;

/** Training cannot start or cannot produce a model from the labelled sessions there are. */
export class NotEnoughDataError extends GymhubError {
  constructor(message: string, details?: unknown) {
    super('not_enough_data', message, 409, details);
  }
}

/**
 * Trains a model on the hub from its labelled, ended sessions: a held-out split by session (every
 * `testEvery`-th session of each label, so no window of a held-out set is trained on), the features and the
 * forest in a worker thread, and both the new and the current model scored on the held-out sessions.
 * The caller registers the model and decides about activation.
 */
export async function trainOnHub(options: HubTrainingOptions, run: HubTrainingRun): Promise<HubTrainingResult> {
  const { train, test, perLabel } = splitSessions(await labelledSessions(options.sessions), options.testEvery ?? DEFAULT_TEST_EVERY);
  const trainLabels = new Set(train.map((s) => s.label));
  if (trainLabels.size < 2 || test.length === 0) {
    throw new NotEnoughDataError(
      'training needs ended, labelled sessions of at least two exercises, and one exercise with at least two sessions (one is held out for the metrics)',
      { sessionsPerLabel: perLabel },
    );
  }
  const base = options.trainOptions ?? BUNDLED_TRAIN_OPTIONS;
  const trainOptions: TrainOptions = {
    ...base,
    forest: { ...base.forest, ...(run.seed !== undefined ? { seed: run.seed } : {}) },
    notes: { data: 'hub sessions', trainSessions: train.length, testSessions: test.length },
  };
  const signal = run.signal;
  const port = await openTrainerPort(options.useWorker ?? true, options.log);
  const onAbort = () => void port.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    signal?.throwIfAborted();
    await port.init({ train: trainOptions, current: run.current, maxTrainWindows: options.maxTrainWindows ?? DEFAULT_MAX_TRAIN_WINDOWS });
    let windows = 0;
    for (const session of train) {
      signal?.throwIfAborted();
      const packed = await readSession(options.readings, session, options.log);
      if (packed) windows += await port.addTrainingSession(packed);
    }
    try {
      await port.fit();
    } catch (err) {
      if (isModelError(err) && err.code === 'invalid_dataset') {
        throw new NotEnoughDataError(`the labelled sessions hold too little motion to train on: ${err.message}`, { trainWindows: windows, sessionsPerLabel: perLabel });
      }
      throw err;
    }
    for (const session of test) {
      signal?.throwIfAborted();
      const packed = await readSession(options.readings, session, options.log);
      if (packed) await port.addTestSession(packed);
    }
    const outcome = await port.outcome();
    signal?.throwIfAborted();
    if (outcome.candidate.windows === 0) {
      throw new NotEnoughDataError('the held-out sessions hold no complete window to score the model on', { sessionsPerLabel: perLabel });
    }
    return { ...outcome, testSessions: test.length, mode: port.mode };
  } catch (err) {
    if (signal?.aborted) throw new GymhubError('training_cancelled', 'training was cancelled: the hub is stopping', 503);
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await port.close();
  }
}

export type LabelledSession = Session & { label: string; endedAt: number };

/** The newest ended sessions with an exercise label (rest and unknown are not exercises), at most `max`. */
export async function labelledSessions(lister: SessionLister, max = MAX_SESSIONS): Promise<LabelledSession[]> {
  const out: LabelledSession[] = [];
  let cursor: string | undefined;
  do {
    const page = await lister.list({ status: 'ended', limit: LIST_PAGE, cursor });
    for (const s of page.items) {
      if (s.status !== 'ended' || !s.label || s.endedAt === undefined || s.endedAt <= s.startedAt) continue;
      if (s.label === REST_LABEL || s.label === UNKNOWN_LABEL) continue;
      out.push(s as LabelledSession);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor && out.length < max);
  return out.slice(0, max);
}

/**
 * Per label, in time order, every `testEvery`-th session is held out; a label with 2 to testEvery - 1
 * sessions holds out its last one; a label with one session is trained on only. Deterministic.
 */
export function splitSessions<T extends Session & { label: string }>(sessions: readonly T[], testEvery: number) {
  const byLabel = new Map<string, T[]>();
  for (const s of sessions) byLabel.set(s.label, [...(byLabel.get(s.label) ?? []), s]);
  const train: T[] = [];
  const test: T[] = [];
  const perLabel: Record<string, number> = {};
  for (const [label, list] of [...byLabel].sort(([a], [b]) => (a < b ? -1 : 1))) {
    list.sort((a, b) => a.startedAt - b.startedAt || (a.id < b.id ? -1 : 1));
    perLabel[label] = list.length;
    list.forEach((s, i) => {
      const heldOut = list.length >= 2 && (i % testEvery === testEvery - 1 || (list.length < testEvery && i === list.length - 1));
      (heldOut ? test : train).push(s);
    });
  }
  // newest training sessions first: when maxTrainWindows cuts, it keeps the recent ones
  train.sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? -1 : 1));
  return { train, test, perLabel };
}

/** A session's readings [startedAt, endedAt) packed for the trainer; undefined when it has none. */
async function readSession(readings: ReadingSource, session: Session & { label: string; endedAt: number }, log: Logger): Promise<PackedSession | undefined> {
  let capacity = 4096;
  let ts = new Float64Array(capacity);
  let values = new Float64Array(capacity * 6);
  let n = 0;
  for await (const chunk of readings.iterate(session.deviceId, session.startedAt, session.endedAt)) {
    for (const r of chunk) {
      if (n === MAX_SESSION_READINGS) break;
      if (n === capacity) {
        capacity *= 2;
        const grownTs = new Float64Array(capacity);
        grownTs.set(ts);
        ts = grownTs;
        const grownValues = new Float64Array(capacity * 6);
        grownValues.set(values);
        values = grownValues;
      }
      ts[n] = r.ts;
      values.set(r.accel, n * 6);
      values.set(r.gyro, n * 6 + 3);
      n++;
    }
    if (n === MAX_SESSION_READINGS) {
      log.warn({ sessionId: session.id, readings: n }, 'session too long for training; its first readings are used');
      break;
    }
  }
  if (n === 0) return undefined;
  return { id: session.id, label: session.label, ts: ts.slice(0, n), values: values.slice(0, n * 6) };
}
