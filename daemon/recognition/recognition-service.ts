import type { Logger } from 'pino';
import {
  Recognizer,
  isModelError,
  predictReadings,
  type LivePrediction,
  type ModelFile,
  type ModelRegistry,
  type PredictResult,
} from '../../models/index.js';
import type { Reading } from '../../drivers/reading.js';
import type { Clock, Timer } from '../clock.js';
import { BadRequestError, GymhubError } from '../errors.js';
import type { EventBus, HubEvents } from '../event-bus.js';
import type { Prediction, Session, SessionDirectory } from '../sessions/types.js';
import type { SessionLister } from './hub-training.js';
import { ModelManager, type ModelSummary, type TrainResult, type TrainingSettings } from './model-manager.js';
import type { PredictionPage, PredictionQuery, PredictionStore } from './prediction-store.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { RecognitionRecorder } from './recognition-recorder.js';
import { DeviceStates, type DeviceState } from './device-states.js';
import { SessionTracker, type ReadingSource, type TrackerSources } from './session-tracker.js';

/** What recognition needs of sessions (SessionService fits). */
export interface RecognitionSessions extends SessionDirectory, SessionLister {
  candidatesFor(deviceId: string): string[] | undefined;
}

export interface RecognitionServiceOptions {
  bus: EventBus;
  sessions: RecognitionSessions;
  registry: ModelRegistry;
  predictions: Pick<PredictionStore, 'add' | 'list' | 'stats'>;
  /** The reading store: restores after a restart, finals of sessions seen only in part, training. */
  readings: ReadingSource;
  log: Logger;
  clock: Clock;
  /** Live window overlap; the model's (0.5) by default. */
  overlap?: number;
  /** A device silent this long loses its in-memory state (10 min). */
  idleEvictMs?: number;
  /** A session's live reps and label are written at most this often (1 s). */
  recordIntervalMs?: number;
  training?: TrainingSettings;
}

export interface ModelStatus {
  state: 'ok' | 'error';
  detail?: string;
  version: string | null;
  classes: string[];
  source: string;
  /** Windows classified since start. */
  predictions: number;
  devices: number;
  activeSessions: number;
  training: 'idle' | 'running';
  errors: number;
  store: { written: number; dropped: number; pending: number };
  [key: string]: unknown;
}

const OWNER = 'recognition';
const DEFAULT_IDLE_EVICT_MS = 10 * 60_000;
const SWEEP_INTERVAL_MS = 60_000;

/**
 * Live recognition (SPEC section 7): every device's stored readings flow into its windows, each window into
 * a stored and announced prediction; the device's active session gets a live rep count and predicted label
 * (the vote of its windows), final when it ends. It sits on the ingest path, so push() does per batch
 * what it must and per window the rest; failures are logged (rate-limited) and never reach the bus.
 */
export class RecognitionService {
  private readonly o: RecognitionServiceOptions;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly devices: DeviceStates;
  private readonly recorder: RecognitionRecorder;
  private readonly warnings: RateLimitedLog;
  private readonly manager: ModelManager;
  private readonly sources: TrackerSources;
  private readonly pending = new Set<Promise<void>>();
  private recognizer: Recognizer | undefined;
  private source = 'unknown';
  private problem: string | undefined;
  private sweepTimer: Timer | undefined;
  private counters = { predictions: 0, errors: 0 };

  constructor(options: RecognitionServiceOptions) {
    this.o = options;
    this.log = options.log;
    this.clock = options.clock;
    this.recorder = new RecognitionRecorder(options.sessions, options.clock, options.log, options.recordIntervalMs ?? 1000);
    this.warnings = new RateLimitedLog(options.log, options.clock);
    this.devices = new DeviceStates({ candidatesFor: (id) => options.sessions.candidatesFor(id), warnings: this.warnings, overlap: options.overlap });
    this.sources = { predictions: options.predictions, readings: options.readings };
    this.manager = new ModelManager({
      registry: options.registry,
      sessions: options.sessions,
      readings: options.readings,
      log: options.log,
      training: options.training,
      use: (model, source) => this.useModel(model, source),
    });
  }

  /** Loads the active model (the bundled one when that fails) and follows readings and sessions. */
  async start(): Promise<void> {
    try {
      const { model, fallback } = await this.o.registry.active();
      this.useModel(model, await this.manager.sourceOf(model.version));
      this.problem = fallback;
      if (fallback) this.log.warn({ reason: fallback }, 'active model unusable; recognising with the bundled model');
    } catch (err) {
      this.problem = `no model could be loaded: ${(err as Error).message}`;
      this.log.error({ err }, 'no model could be loaded; recognition is off');
    }
    this.o.bus.on('readings', OWNER, (event) => this.push(event.readings));
    this.o.bus.on('session', OWNER, (event) => this.onSession(event));
    this.sweepTimer = this.clock.setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref?.();
  }

  /**
   * Stops a running training (POST /models/train then answers 503). Call it before closing the API: the
   * API's close waits for in-flight requests, and a training request can run for minutes.
   */
  cancelTraining(): Promise<void> {
    return this.manager.cancelTraining();
  }

  async stop(): Promise<void> {
    await this.manager.cancelTraining();
    this.o.bus.removeListeners(OWNER);
    this.clock.clearInterval(this.sweepTimer);
    this.recorder.flushAll();
    await this.idle();
  }

  /** Resolves once restores, final results and session writes started so far have settled. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    await this.recorder.idle();
  }

  /** Stored readings, any devices, in time order per device (what the bus's 'readings' event carries). */
  push(readings: readonly Reading[]): void {
    if (!this.recognizer || readings.length === 0) return;
    const first = readings[0].deviceId;
    let mixed = false;
    for (let i = 1; i < readings.length; i++) {
      if (readings[i].deviceId !== first) {
        mixed = true;
        break;
      }
    }
    if (!mixed) return this.pushDevice(first, readings);
    const groups = new Map<string, Reading[]>();
    for (const r of readings) {
      const group = groups.get(r.deviceId);
      if (group) group.push(r);
      else groups.set(r.deviceId, [r]);
    }
    for (const [deviceId, group] of groups) this.pushDevice(deviceId, group);
  }

  /** Stateless recognition (POST /predict); ModelError becomes a 400 with its code. */
  predict(readings: unknown, candidates?: string[]): PredictResult {
    if (!this.recognizer) throw new GymhubError('model_unavailable', this.problem ?? 'no model loaded', 503);
    try {
      return predictReadings(this.recognizer, readings, { candidates });
    } catch (err) {
      if (isModelError(err)) throw new BadRequestError(err.message, err.details, err.code);
      throw err;
    }
  }

  listPredictions(query: PredictionQuery): Promise<PredictionPage> {
    return this.o.predictions.list(query);
  }

  /** The active model's exercise classes (SessionService's knownClasses). */
  classes(): readonly string[] {
    return this.recognizer?.classes ?? [];
  }

  models(): Promise<ModelSummary[]> {
    return this.manager.models();
  }

  activate(version: string): Promise<{ version: string; previous: string }> {
    return this.manager.activate(version);
  }

  rollback(): Promise<{ version: string; previous: string }> {
    return this.manager.rollback();
  }

  train(request: { force?: boolean; seed?: number } = {}): Promise<TrainResult> {
    return this.manager.train(request);
  }

  /** /health's model component. */
  status(): ModelStatus {
    let activeSessions = 0;
    for (const state of this.devices.values()) if (state.tracker) activeSessions++;
    return {
      state: this.recognizer ? 'ok' : 'error',
      ...(this.problem ? { detail: this.problem } : {}),
      version: this.recognizer?.version ?? null,
      classes: [...(this.recognizer?.classes ?? [])],
      source: this.source,
      predictions: this.counters.predictions,
      devices: this.devices.size,
      activeSessions,
      training: this.manager.trainingRunning ? 'running' : 'idle',
      errors: this.counters.errors,
      store: this.o.predictions.stats(),
    };
  }

  private pushDevice(deviceId: string, readings: readonly Reading[]): void {
    try {
      const now = this.clock.now();
      const state = this.devices.get(deviceId, now);
      state.lastSeenMs = now;
      const tracker = this.trackerFor(state, this.o.sessions.active(deviceId));
      const windows = state.live.push(readings);
      if (tracker) {
        const reps = tracker.addReadings(readings);
        if (tracker.restored && reps !== tracker.reportedReps) this.reportReps(tracker, reps, readings[readings.length - 1].ts);
      }
      for (const w of windows) this.onWindow(deviceId, w, tracker);
    } catch (err) {
      this.counters.errors++;
      this.warnings.warn(`push:${deviceId}`, { err, deviceId }, 'recognition failed on readings; carrying on');
    }
  }

  private onWindow(deviceId: string, w: LivePrediction, tracker: SessionTracker | undefined): void {
    const inSession = tracker !== undefined && (w.windowStart + w.windowEnd) / 2 >= tracker.startedAt;
    const prediction: Prediction = inSession ? { deviceId, sessionId: tracker.id, ...w } : { deviceId, ...w };
    this.counters.predictions++;
    this.o.predictions.add(prediction);
    this.o.bus.emit('prediction', prediction);
    if (!inSession) return;
    tracker.addWindow(w.windowStart, w.label);
    if (tracker.restored) this.reportLabel(tracker);
  }

  private reportReps(tracker: SessionTracker, reps: number, ts: number): void {
    tracker.reportedReps = reps;
    this.o.bus.emit('reps', { deviceId: tracker.deviceId, sessionId: tracker.id, reps, ts });
    this.recorder.update(tracker.id, { reps });
  }

  private reportLabel(tracker: SessionTracker): void {
    if (tracker.tally.windows === 0) return;
    const label = tracker.tally.result().label;
    if (label === tracker.reportedLabel) return;
    tracker.reportedLabel = label;
    this.recorder.update(tracker.id, { predictedLabel: label });
  }

  /** The tracker of the device's active session, created (restoring the session's past) when new here. */
  private trackerFor(state: DeviceState, session: Session | undefined): SessionTracker | undefined {
    if (state.tracker && state.tracker.id === session?.id) return state.tracker;
    // a session this state still follows ended or was deleted without us hearing of it: stop following it
    if (state.tracker) this.recorder.flush(state.tracker.id);
    state.tracker = session ? this.newTracker(session) : undefined;
    return state.tracker;
  }

  private newTracker(session: Session): SessionTracker {
    const tracker = new SessionTracker(session, this.clock.now(), this.sources, (err) =>
      this.warnings.warn(`restore:${session.id}`, { err, sessionId: session.id }, 'could not restore a session from the stores; counting from now'),
    );
    this.track(
      tracker.whenRestored().then(() => {
        if (this.devices.find(session.deviceId)?.tracker !== tracker) return;
        if (tracker.liveReps !== tracker.reportedReps) this.reportReps(tracker, tracker.liveReps, this.clock.now());
        this.reportLabel(tracker);
      }),
    );
    return tracker;
  }

  private onSession({ type, session }: HubEvents['session']): void {
    const state = this.devices.find(session.deviceId);
    // a set starts or ends: the device's probability average (models/smoothing.ts) forgets the windows before
    if (type === 'started' || type === 'ended') state?.live.restartSmoothing();
    if (type === 'ended') this.track(this.finish(session));
    if (type === 'deleted') {
      this.recorder.forget(session.id);
      if (state?.tracker?.id === session.id) state.tracker = undefined;
    }
    this.devices.refreshCandidates(session.deviceId);
  }

  /** A session ended: its final reps and label, from its tracker, or from the stores when it has none here. */
  private async finish(session: Session): Promise<void> {
    const state = this.devices.find(session.deviceId);
    let tracker = state?.tracker?.id === session.id ? state.tracker : undefined;
    if (state && tracker) state.tracker = undefined;
    tracker ??= new SessionTracker(session, this.clock.now(), this.sources, (err) =>
      this.warnings.warn(`final:${session.id}`, { err, sessionId: session.id }, 'could not read a session back for its final results'),
    );
    await tracker.whenRestored();
    const final = tracker.finish();
    if (final.reps !== tracker.reportedReps) {
      this.o.bus.emit('reps', { deviceId: session.deviceId, sessionId: session.id, reps: final.reps, ts: session.endedAt ?? this.clock.now() });
    }
    await this.recorder.final(session.id, final);
  }

  /** Puts a model to use: every device's windowing starts again with it; sessions keep their counts. */
  private useModel(model: ModelFile, source: string): void {
    this.recognizer = new Recognizer(model);
    this.source = source;
    this.problem = undefined;
    this.devices.use(this.recognizer);
  }

  /** Drops idle devices' state (memory stays bounded by the devices streaming now) and refreshes candidates. */
  private sweep(): void {
    this.devices.sweep(this.clock.now(), this.o.idleEvictMs ?? DEFAULT_IDLE_EVICT_MS, (state) => {
      if (state.tracker) this.recorder.flush(state.tracker.id);
    });
  }

  private track(work: Promise<void>): void {
    const done = work
      .catch((err: unknown) => {
        this.counters.errors++;
        this.log.warn({ err }, 'recognition step failed');
      })
      .finally(() => this.pending.delete(done));
    this.pending.add(done);
  }
}
