import type { Logger } from 'pino';
import type { Clock, Timer } from '../daemon/clock.js';
import { redactUrl } from '../daemon/logger.js';
import type { SessionLister } from '../daemon/recognition/hub-training.js';
import type { ReadingSource } from '../daemon/recognition/session-tracker.js';
import { FEATURE_VERSION, parseModel, type ModelFile, type ModelRegistry } from '../models/index.js';
import { migrate } from './migrations.js';
import { modelSha256 } from './model-checksum.js';
import { redactPgMessage } from './pg-redact.js';
import { DECISIONS_KEPT, readPullState, writePullState, type ModelPullDecision, type ModelPullState } from './model-pull-state.js';
import { shadowEvaluate } from './model-shadow.js';

export type { ModelPullDecision } from './model-pull-state.js';

export interface ModelPullOptions {
  /** sync.postgresUrl */
  postgresUrl: string;
  registry: ModelRegistry;
  /** Puts a stored version to use, the previous one kept for rollback (RecognitionService.activate fits). */
  activate: (version: string) => Promise<unknown>;
  /** The hub's own labelled sessions and their readings, for the shadow evaluation. */
  sessions: SessionLister;
  readings: ReadingSource;
  clock: Clock;
  log: Logger;
  /** `<dataDir>/model-pull.json`: what was seen and decided, across restarts. */
  stateFile: string;
  pollIntervalMs: number;
  /** The first poll after start(): the interval or FIRST_POLL_MAX_MS, whichever is shorter. */
  firstPollMs?: number;
  /** Newest labelled sessions the shadow evaluation uses at most. */
  shadowSessions?: number;
}

export interface ModelPullStatus {
  state: 'idle' | 'polling' | 'error' | 'stopped';
  pollIntervalS: number;
  lastPollAt: number | null;
  /** The last poll that got an answer from Postgres. */
  lastSuccessAt: number | null;
  lastError: string | null;
  nextPollAt: number | null;
  /** The newest published model this hub has dealt with. */
  seen: { version: string; publishedAt: number } | null;
  lastDecision: ModelPullDecision | null;
  /** The last few decisions, oldest first. */
  decisions: ModelPullDecision[];
}

/** A published model offered to the hub: fetched and checked, or refused with the reason. */
interface Offer {
  version: string;
  publishedAt: number;
  refusal?: string;
  model?: ModelFile;
  metrics?: Record<string, unknown>;
  trainedOn?: unknown;
  sha256?: string;
}

const FIRST_POLL_MAX_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;
const QUERY_TIMEOUT_MS = 60_000;

/**
 * The hub's side of central retraining (SPEC section 9): polls the cloud for the newest published model it
 * has not dealt with, checks it (sha256 of the canonical model, feature version, model format), scores it
 * in shadow on the hub's own labelled sessions against the active model, and activates it when it is not
 * worse there; the previous model stays for rollback. A model that fails a check is refused once and not
 * fetched again; a network or database failure is retried at the next poll.
 */
export class ModelPuller {
  private readonly o: ModelPullOptions;
  private readonly log: Logger;
  private state: ModelPullState = { seen: null, decisions: [] };
  private loaded: Promise<void> | undefined;
  private running: Promise<ModelPullDecision | undefined> | undefined;
  private timer: Timer | undefined;
  /** The connection of the poll under way: stop() ends it rather than wait out a hung query. */
  private client: { end(): Promise<void> } | undefined;
  private readonly abort = new AbortController();
  private stopped = false;
  private migrated = false;
  private lastPollAt: number | null = null;
  private lastSuccessAt: number | null = null;
  private lastError: string | null = null;
  private nextPollAt: number | null = null;

  constructor(options: ModelPullOptions) {
    this.o = options;
    this.log = options.log;
  }

  start(): void {
    this.loadState();
    this.schedule(this.o.firstPollMs ?? Math.min(this.o.pollIntervalMs, FIRST_POLL_MAX_MS));
  }

  /** Stops polling; a poll under way is cut short between sessions of its evaluation. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.o.clock.clearTimeout(this.timer);
    this.nextPollAt = null;
    this.abort.abort();
    await this.client?.end().catch(() => undefined);
    await this.idle();
  }

  /** Polls now (or joins the poll under way); the decision, when a new published model was dealt with. */
  pollNow(): Promise<ModelPullDecision | undefined> {
    this.running ??= this.poll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Resolves once no poll is under way. */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  status(): ModelPullStatus {
    const decisions = this.state.decisions;
    return {
      state: this.stopped ? 'stopped' : this.running ? 'polling' : this.lastError ? 'error' : 'idle',
      pollIntervalS: this.o.pollIntervalMs / 1000,
      lastPollAt: this.lastPollAt,
      lastSuccessAt: this.lastSuccessAt,
      lastError: this.lastError,
      nextPollAt: this.nextPollAt,
      seen: this.state.seen,
      lastDecision: decisions[decisions.length - 1] ?? null,
      decisions: [...decisions],
    };
  }

  /** The next poll is set before this one runs, so a slow poll never delays the schedule (nor overlaps it). */
  private schedule(ms: number): void {
    if (this.stopped) return;
    this.nextPollAt = this.o.clock.now() + ms;
    this.timer = this.o.clock.setTimeout(() => {
      this.schedule(this.o.pollIntervalMs);
      void this.pollNow();
    }, ms);
    this.timer.unref?.();
  }

  private async poll(): Promise<ModelPullDecision | undefined> {
    if (this.stopped) return undefined;
    this.lastPollAt = this.o.clock.now();
    try {
      await this.loadState();
      const offer = await this.fetchOffer();
      this.lastSuccessAt = this.o.clock.now();
      this.lastError = null;
      if (!offer) return undefined;
      return await this.decide(offer);
    } catch (err) {
      if (this.abort.signal.aborted) return undefined;
      this.lastError = redactPgMessage((err as Error).message, this.o.postgresUrl);
      this.log.warn({ err: { message: this.lastError }, postgres: redactUrl(this.o.postgresUrl) }, 'model pull failed; trying again at the next poll');
      return undefined;
    }
  }

  /** What an earlier run of the hub saw and decided (read once; an unreadable file is an empty state). */
  private loadState(): Promise<void> {
    this.loaded ??= readPullState(this.o.stateFile).then((state) => {
      this.state = state;
    });
    return this.loaded;
  }

  /** The newest published model when it is newer than the one seen, fetched and checked. */
  private async fetchOffer(): Promise<Offer | undefined> {
    const { default: pg } = await import('pg');
    const client = new pg.Client({
      connectionString: this.o.postgresUrl,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      application_name: 'gymhub-model-pull',
    });
    // a connection lost mid-poll surfaces as the failed query; this keeps the event from crashing the hub
    client.on('error', () => undefined);
    this.client = client;
    await client.connect();
    try {
      if (!this.migrated) {
        await migrate(client);
        this.migrated = true;
      }
      const { rows } = await client.query<{ version: string; published_at: string; feature_version: string; sha256: string }>(
        'SELECT version, published_at, feature_version, sha256 FROM models WHERE published ORDER BY published_at DESC, version DESC LIMIT 1',
      );
      const row = rows[0];
      if (!row) return undefined;
      const offer: Offer = { version: row.version, publishedAt: Number(row.published_at) };
      const seen = this.state.seen;
      if (seen && offer.publishedAt <= seen.publishedAt) return undefined;
      if (row.feature_version !== String(FEATURE_VERSION)) {
        return { ...offer, refusal: `feature version ${row.feature_version}; this hub computes features v${FEATURE_VERSION}` };
      }
      const full = await client.query<{ model: unknown; metrics: Record<string, unknown>; trained_on: unknown }>(
        'SELECT model, metrics, trained_on FROM models WHERE version = $1',
        [row.version],
      );
      const { model, metrics, trained_on: trainedOn } = full.rows[0] ?? {};
      const sha256 = modelSha256(model);
      if (sha256 !== row.sha256) return { ...offer, refusal: `checksum mismatch: the model's sha256 is ${sha256}, its row says ${row.sha256}` };
      let parsed: ModelFile;
      try {
        parsed = parseModel(model);
      } catch (err) {
        return { ...offer, refusal: `not a usable model: ${(err as Error).message}` };
      }
      if (parsed.version !== row.version) return { ...offer, refusal: `the model calls itself ${parsed.version}, its row ${row.version}` };
      return { ...offer, model: parsed, metrics: metrics ?? {}, trainedOn, sha256 };
    } finally {
      this.client = undefined;
      await client.end().catch(() => undefined);
    }
  }

  private async decide(offer: Offer): Promise<ModelPullDecision | undefined> {
    const { registry, clock } = this.o;
    const base = { version: offer.version, publishedAt: offer.publishedAt };
    if (offer.refusal || !offer.model) {
      const decision: ModelPullDecision = { ...base, action: 'refused', reason: offer.refusal ?? 'no model', at: clock.now() };
      this.log.warn({ version: offer.version, reason: decision.reason }, 'refused a published model');
      return this.record(decision);
    }
    const active = (await registry.active()).model;
    if (active.version === offer.version) {
      this.log.info({ version: offer.version }, 'the newest published model is active already');
      return this.record({ ...base, action: 'activated', reason: 'already active', at: clock.now() });
    }
    const shadow = await shadowEvaluate({
      sessions: this.o.sessions,
      readings: this.o.readings,
      candidate: offer.model,
      active,
      maxSessions: this.o.shadowSessions,
      signal: this.abort.signal,
    });
    const f1 = (x: number) => x.toFixed(4);
    const judged = shadow.windows > 0;
    const notWorse = !judged || shadow.candidate.macroF1 >= shadow.active.macroF1;
    let reason = judged
      ? `macro-F1 on ${shadow.sessions} labelled sessions here: ${f1(shadow.candidate.macroF1)}, active ${active.version}: ${f1(shadow.active.macroF1)}`
      : 'no labelled sessions here to judge it by: taken on the cloud\'s held-out metrics';
    const metrics = { ...offer.metrics, trainedOn: offer.trainedOn, publishedAt: offer.publishedAt, sha256: offer.sha256, shadow };
    await registry.add(offer.model, metrics, { source: 'cloud' });
    let action: ModelPullDecision['action'] = 'kept';
    if (notWorse) {
      // someone switched models while this one was being judged: judge it again against that one next time
      if ((await registry.activeVersion()) !== active.version) {
        this.log.info({ version: offer.version }, 'the active model changed during the shadow evaluation; judging again at the next poll');
        return undefined;
      }
      try {
        await this.o.activate(offer.version);
        action = 'activated';
      } catch (err) {
        reason = `${reason}; activation failed: ${(err as Error).message}`;
      }
    }
    const decision: ModelPullDecision = { ...base, action, reason, at: clock.now(), shadow };
    this.log.info(
      { version: offer.version, action, previous: active.version, candidateMacroF1: shadow.candidate.macroF1, activeMacroF1: shadow.active.macroF1, sessions: shadow.sessions },
      action === 'activated' ? 'activated a published model' : notWorse ? 'could not activate a published model' : 'kept a published model inactive: worse here than the active one',
    );
    return this.record(decision);
  }

  private async record(decision: ModelPullDecision): Promise<ModelPullDecision> {
    this.state = {
      seen: { version: decision.version, publishedAt: decision.publishedAt },
      decisions: [...this.state.decisions, decision].slice(-DECISIONS_KEPT),
    };
    await writePullState(this.o.stateFile, this.state);
    return decision;
  }
}
