import type pg from 'pg';
import { HubTrainer, type HeldOutScores } from '../daemon/recognition/hub-trainer.js';
import { NotEnoughDataError } from '../daemon/recognition/hub-training.js';
import { ConflictError } from '../daemon/errors.js';
import { BUNDLED_TRAIN_OPTIONS, isModelError, serializeModel, type ModelFile, type TrainOptions } from '../models/index.js';
import { modelSha256 } from './model-checksum.js';
import { splitForEvaluation, type EvaluationSplit } from './retrain-split.js';
import { labelledCloudSessions, newestPublished, readCloudSession, type CloudSession } from './retrain-source.js';

export interface RetrainOptions {
  /** A connected client on the cloud database, its schema migrated. */
  client: pg.ClientBase;
  /** The model to compare with when none is published (the bundled one); reported, never a bar to publishing. */
  baseline: () => Promise<ModelFile>;
  /** Publish only when the held-out macro-F1 improves by at least this much (and by more than 0). */
  minImprovement?: number;
  /** The recipe: the bundled model's by default, as on the hub. */
  trainOptions?: TrainOptions;
  /** Training windows at most (~4 KB each); the newest sessions are kept. */
  maxTrainWindows?: number;
  /** Progress for the operator (the CLI writes it to stderr). */
  progress?: (line: string) => void;
  now?: () => number;
}

export interface ComparedScores {
  version: string;
  /** What the new model was compared with: the newest published model, or the bundled one when none is. */
  source: 'published' | 'bundled';
  accuracy: number;
  macroF1: number;
  setAccuracy: number;
  windows: number;
}

/** The `metrics` column: what a hub's GET /api/v1/models shows once it has pulled the model. */
export interface RetrainMetrics extends Record<string, unknown> {
  heldOut: Omit<HeldOutScores, 'model'>;
  current: ComparedScores;
  split: { by: EvaluationSplit['by']; heldOut: string[]; trained: string[] };
  trainSessions: number;
  testSessions: number;
  trainWindows: number;
  trainedIn: 'cloud';
}

/** The `trained_on` column. */
export interface TrainedOn extends Record<string, unknown> {
  hubs: string[];
  sessions: number;
  windows: number;
  /** Training sessions per label. */
  labels: Record<string, number>;
  /** Sessions left out because Postgres does not hold all their readings yet (an upload under way). */
  incompleteSessions: number;
}

export interface RetrainResult {
  version: string;
  sha256: string;
  published: boolean;
  /** False when an identical model (same version) was in the table already: no row was added. */
  created: boolean;
  /** Why it was or was not published, in words. */
  reason: string;
  publishedAt: number | null;
  /** The published model it was compared with, if any. */
  previous: { version: string; macroF1: number } | null;
  metrics: RetrainMetrics;
  trainedOn: TrainedOn;
  durationMs: number;
}

export const DEFAULT_RETRAIN_MAX_WINDOWS = 50_000;
/** Any fixed number: one retrain job at a time per database. */
const RETRAIN_LOCK_KEY = 0x67796d72; // 'gymr'

/**
 * The central retraining job (SPEC section 9): every hub's labelled sessions from Postgres, windows and
 * features exactly as on the hub (HubTrainer, the hub's own trainer), evaluation on held-out hubs (or
 * devices), a new `models` row with its metrics, published only when it beats the newest published model
 * on the same held-out data, or when none is published.
 */
export async function retrain(options: RetrainOptions): Promise<RetrainResult> {
  const { client } = options;
  const started = performance.now();
  const progress = options.progress ?? (() => undefined);
  const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [RETRAIN_LOCK_KEY]);
  if (!rows[0]?.ok) throw new ConflictError('another retrain job is running on this database');
  try {
    const all = await labelledCloudSessions(client);
    const complete = all.filter((s) => s.storedReadings >= s.readingCount && s.storedReadings > 0 && s.endedAt > s.startedAt);
    const split = splitForEvaluation(complete);
    const trainLabels = countBy(split.train, (s) => s.label);
    if (Object.keys(trainLabels).length < 2 || split.test.length === 0) {
      throw new NotEnoughDataError('retraining needs labelled sessions of at least two exercises and data to hold out (two hubs, two devices, or two sessions of one exercise)', {
        sessions: complete.length,
        incompleteSessions: all.length - complete.length,
        sessionsPerLabel: countBy(complete, (s) => s.label),
      });
    }
    progress(`${complete.length} labelled sessions from ${distinct(complete.map((s) => s.hubId)).length} hubs; held out by ${split.by}: ${split.heldOut.join(', ')}`);

    const published = await newestPublished(client);
    if (published?.problem) progress(`the published model ${published.version} cannot be used by this build: ${published.problem}`);
    const current = published?.model ?? (await options.baseline());
    const base = options.trainOptions ?? BUNDLED_TRAIN_OPTIONS;
    const trainer = new HubTrainer({
      train: { ...base, notes: { data: 'cloud sessions', split: split.by, heldOut: split.heldOut } },
      current,
      maxTrainWindows: options.maxTrainWindows ?? DEFAULT_RETRAIN_MAX_WINDOWS,
    });
    const { sessions: trainSessions, windows } = await addTrainingSessions(client, trainer, split.train, options.maxTrainWindows ?? DEFAULT_RETRAIN_MAX_WINDOWS);
    progress(`training on ${windows} windows of ${trainSessions} sessions`);
    try {
      trainer.fit();
    } catch (err) {
      if (isModelError(err) && err.code === 'invalid_dataset') throw new NotEnoughDataError(`the labelled sessions hold too little motion to train on: ${err.message}`);
      throw err;
    }
    for (const session of split.test) {
      const packed = await readCloudSession(client, session);
      if (packed) trainer.addTestSession(packed);
    }
    const outcome = trainer.outcome();
    if (outcome.candidate.windows === 0) throw new NotEnoughDataError('the held-out sessions hold no complete window to score the model on');

    const { model: _version, ...heldOut } = outcome.candidate;
    const compared: ComparedScores = {
      version: outcome.current.model,
      source: published?.model ? 'published' : 'bundled',
      accuracy: outcome.current.accuracy,
      macroF1: outcome.current.macroF1,
      setAccuracy: outcome.current.setAccuracy,
      windows: outcome.current.windows,
    };
    const metrics: RetrainMetrics = {
      heldOut,
      current: compared,
      split: { by: split.by, heldOut: split.heldOut, trained: split.trained },
      trainSessions,
      testSessions: split.test.length,
      trainWindows: outcome.trainWindows,
      trainedIn: 'cloud',
    };
    const trainedOn: TrainedOn = {
      hubs: distinct(split.train.map((s) => s.hubId)).sort(),
      sessions: trainSessions,
      windows: outcome.trainWindows,
      labels: trainLabels,
      incompleteSessions: all.length - complete.length,
    };
    const decision = decide(published, heldOut.macroF1, compared, options.minImprovement ?? 0);
    const stored = await store(client, outcome.model, metrics, trainedOn, decision.publish, (options.now ?? Date.now)());
    return {
      version: outcome.model.version,
      sha256: stored.sha256,
      published: stored.published,
      created: stored.created,
      reason: stored.note ?? decision.reason,
      publishedAt: stored.publishedAt,
      previous: published?.model ? { version: published.version, macroF1: compared.macroF1 } : null,
      metrics,
      trainedOn,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [RETRAIN_LOCK_KEY]).catch(() => undefined);
  }
}

/** Training sessions newest first (when maxWindows cuts, the recent ones stay); readings never all in memory. */
async function addTrainingSessions(client: pg.ClientBase, trainer: HubTrainer, sessions: readonly CloudSession[], maxWindows: number) {
  const newestFirst = [...sessions].sort((a, b) => b.startedAt - a.startedAt || (a.hubId + a.sessionId < b.hubId + b.sessionId ? -1 : 1));
  let windows = 0;
  let used = 0;
  for (const session of newestFirst) {
    if (windows >= maxWindows) break;
    const packed = await readCloudSession(client, session);
    if (!packed) continue;
    windows += trainer.addTrainingSession(packed);
    used++;
  }
  return { sessions: used, windows };
}

function decide(published: Awaited<ReturnType<typeof newestPublished>>, macroF1: number, current: ComparedScores, minImprovement: number): { publish: boolean; reason: string } {
  const f1 = (x: number) => x.toFixed(4);
  if (!published) return { publish: true, reason: `no model is published yet (held-out macro-F1 ${f1(macroF1)}; bundled ${f1(current.macroF1)})` };
  if (!published.model) return { publish: true, reason: `the published model ${published.version} cannot be used by this build` };
  const gain = macroF1 - current.macroF1;
  if (gain > 0 && gain >= minImprovement) {
    return { publish: true, reason: `held-out macro-F1 ${f1(macroF1)} beats the published ${published.version}'s ${f1(current.macroF1)}` };
  }
  const bar = minImprovement > 0 ? ` by at least ${minImprovement}` : '';
  return { publish: false, reason: `held-out macro-F1 ${f1(macroF1)} does not beat the published ${published.version}'s ${f1(current.macroF1)}${bar}` };
}

/**
 * One transaction: the row is added (an identical model already there is left as it is) and, when the job
 * decided so, published with a published_at after every earlier one, so "the newest published" is one row.
 */
async function store(client: pg.ClientBase, model: ModelFile, metrics: RetrainMetrics, trainedOn: TrainedOn, publish: boolean, now: number) {
  // the plain JSON form: what jsonb holds and what a hub checks the sha256 of
  const plain = JSON.parse(serializeModel(model)) as ModelFile;
  delete plain.metrics;
  const sha256 = modelSha256(plain);
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ published: boolean; published_at: string | null }>('SELECT published, published_at FROM models WHERE version = $1 FOR UPDATE', [model.version]);
    const existing = rows[0];
    let note: string | undefined;
    if (!existing) {
      await client.query(
        `INSERT INTO models (version, created_at, feature_version, classes, metrics, trained_on, sha256, model, published)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, false)`,
        [model.version, now, String(model.featureVersion), model.classes, metrics, trainedOn, sha256, plain],
      );
    } else if (existing.published) {
      note = `identical to the published model ${model.version}: nothing to add`;
    } else if (!publish) {
      note = `identical to the stored, unpublished model ${model.version}: nothing to add`;
    }
    let publishedAt: number | null = existing?.published_at ? Number(existing.published_at) : null;
    const publishNow = publish && !existing?.published;
    if (publishNow) {
      const { rows: stamped } = await client.query<{ at: string }>(
        `UPDATE models SET published = true,
                published_at = GREATEST($2::bigint, COALESCE((SELECT max(published_at) + 1 FROM models WHERE published), 0))
          WHERE version = $1 RETURNING published_at AS at`,
        [model.version, now],
      );
      publishedAt = Number(stamped[0].at);
    }
    await client.query('COMMIT');
    return { sha256, created: !existing, published: publishNow, publishedAt: publishNow ? publishedAt : null, note };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

function distinct(values: readonly string[]): string[] {
  return [...new Set(values)];
}
