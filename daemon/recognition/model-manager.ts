import type { Logger } from 'pino';
import { isModelError, type ModelFile, type ModelRegistry, type TrainOptions } from '../../models/index.js';
import { ConflictError, GymhubError, NotFoundError } from '../errors.js';
import { trainOnHub, type SessionLister } from './hub-training.js';
import type { HeldOutScores } from './hub-trainer.js';
import type { ReadingSource } from './session-tracker.js';

export interface ModelSummary {
  version: string;
  /** ms since the epoch; null for the bundled model. */
  createdAt: number | null;
  source: string;
  featureVersion: number;
  classes: string[];
  metrics: Record<string, unknown> | null;
  active: boolean;
}

export interface TrainResult {
  version: string;
  /** Whether a new version was stored (false: training gave a model identical to a stored one). */
  created: boolean;
  activated: boolean;
  forced: boolean;
  /** The version active before. */
  previous: string;
  /** The version active now. */
  active: string;
  metrics: TrainingMetrics;
  /** The trained model itself (the API does not return it). */
  model: ModelFile;
}

export interface TrainingMetrics extends Record<string, unknown> {
  heldOut: Omit<HeldOutScores, 'model'>;
  current: { version: string; accuracy: number; macroF1: number; windows: number; setAccuracy: number };
  trainSessions: number;
  testSessions: number;
  trainWindows: number;
  split: string;
  trainedIn: 'worker' | 'in-thread';
}

export interface TrainingSettings {
  useWorker?: boolean;
  maxTrainWindows?: number;
  trainOptions?: TrainOptions;
  testEvery?: number;
}

export interface ModelManagerOptions {
  registry: ModelRegistry;
  sessions: SessionLister;
  readings: ReadingSource;
  log: Logger;
  training?: TrainingSettings;
  /** Puts a model to use (called once it is the registry's active one). */
  use: (model: ModelFile, source: string) => void;
}

/**
 * The registry as the API drives it: list, activate, roll back, and train on the hub. Changes to the active
 * model run one at a time; one training at a time (a second is refused with 409).
 */
export class ModelManager {
  private queue: Promise<unknown> = Promise.resolve();
  private training: Promise<TrainResult> | undefined;
  private abort: AbortController | undefined;

  constructor(private readonly options: ModelManagerOptions) {}

  get trainingRunning(): boolean {
    return this.training !== undefined;
  }

  async models(): Promise<ModelSummary[]> {
    return (await this.options.registry.list()).map((e) => ({
      version: e.version,
      createdAt: e.addedAt ?? null,
      source: e.source,
      featureVersion: e.featureVersion,
      classes: e.classes,
      metrics: e.metrics ?? null,
      active: e.active,
    }));
  }

  async sourceOf(version: string): Promise<string> {
    return (await this.options.registry.list()).find((e) => e.version === version)?.source ?? 'unknown';
  }

  activate(version: string): Promise<{ version: string; previous: string }> {
    return this.exclusive(async () => {
      const registry = this.options.registry;
      const previous = await registry.activeVersion();
      const model = await this.load(version);
      await registry.activate(version);
      this.options.use(model, await this.sourceOf(version));
      this.options.log.info({ version, previous }, 'model activated');
      return { version, previous };
    });
  }

  rollback(): Promise<{ version: string; previous: string }> {
    return this.exclusive(async () => {
      const registry = this.options.registry;
      const previous = await registry.activeVersion();
      let version: string;
      try {
        version = await registry.rollback();
      } catch (err) {
        if (isModelError(err) && err.code === 'model_not_found') throw new ConflictError(err.message);
        throw err;
      }
      this.options.use(await registry.get(version), await this.sourceOf(version));
      this.options.log.info({ version, previous }, 'model rolled back');
      return { version, previous };
    });
  }

  /** Trains on the hub's labelled sessions; activates the result when it is not worse (or when forced). */
  async train(request: { force?: boolean; seed?: number } = {}): Promise<TrainResult> {
    if (this.training) throw new ConflictError('a training run is already in progress');
    this.abort = new AbortController();
    this.training = this.runTraining(request.force === true, request.seed, this.abort.signal);
    try {
      return await this.training;
    } finally {
      this.training = undefined;
      this.abort = undefined;
    }
  }

  /** Stops a running training (its request answers 503); resolves once it has stopped. */
  async cancelTraining(): Promise<void> {
    const running = this.training;
    if (!running) return;
    this.abort?.abort();
    await running.catch(() => undefined);
  }

  private async runTraining(force: boolean, seed: number | undefined, signal: AbortSignal): Promise<TrainResult> {
    const { registry, log } = this.options;
    // What the new model is compared with: the one in use, which is the registry's active one (the bundled one
    // when that is unusable), read back from its file because recognition keeps only its compiled forest.
    const current = (await registry.active()).model;
    const settings = this.options.training ?? {};
    const started = performance.now();
    const result = await trainOnHub(
      { sessions: this.options.sessions, readings: this.options.readings, log, ...settings },
      { current, seed, signal },
    );
    const { model: _model, ...heldOut } = result.candidate;
    const metrics: TrainingMetrics = {
      heldOut,
      current: {
        version: result.current.model,
        accuracy: result.current.accuracy,
        macroF1: result.current.macroF1,
        windows: result.current.windows,
        setAccuracy: result.current.setAccuracy,
      },
      trainSessions: result.trainSessions,
      testSessions: result.testSessions,
      trainWindows: result.trainWindows,
      split: `held out by session: every ${settings.testEvery ?? 5}th session of each label`,
      trainedIn: result.mode,
    };
    const notWorse = result.candidate.macroF1 >= result.current.macroF1;
    const activate = force || notWorse;
    return this.exclusive(async () => {
      const previous = await registry.activeVersion();
      const created = !(await registry.list()).some((e) => e.version === result.model.version);
      await registry.add(result.model, metrics, { source: 'hub', activate });
      if (activate) this.options.use(result.model, 'hub');
      log.info(
        { version: result.model.version, activated: activate, forced: force && !notWorse, macroF1: heldOut.macroF1, currentMacroF1: metrics.current.macroF1, ms: Math.round(performance.now() - started) },
        'trained a model on the hub',
      );
      return {
        version: result.model.version,
        created,
        activated: activate,
        forced: force && !notWorse,
        previous,
        active: activate ? result.model.version : previous,
        metrics,
        model: result.model,
      };
    });
  }

  private async load(version: string): Promise<ModelFile> {
    try {
      return await this.options.registry.get(version);
    } catch (err) {
      if (isModelError(err) && (err.code === 'model_not_found' || err.code === 'invalid_model')) {
        if ((await this.options.registry.list()).some((e) => e.version === version)) {
          throw new GymhubError('model_unusable', `model ${version} cannot be loaded: ${err.message}`, 409);
        }
        throw new NotFoundError('model', version);
      }
      if (isModelError(err)) throw new GymhubError('model_unusable', `model ${version} cannot be used: ${err.message}`, 409);
      throw err;
    }
  }

  private exclusive<T>(step: () => Promise<T>): Promise<T> {
    const next = this.queue.then(step);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
