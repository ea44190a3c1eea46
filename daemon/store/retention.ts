import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { TIME_INDEX_RANGE, parseBlockKeyTail } from './keys.js';
import { decodeIndexValue, type BlockEntry } from './meta.js';

/**
 * Decides which stored readings may go when the store is over storage.maxBytes. The sessions layer answers
 * "already synced, or in no labelled session"; data it protects is kept until storage.hardMaxBytes.
 */
export interface RetentionPolicy {
  /** May the readings of `deviceId` with ts in [fromTs, toTs] (both inclusive) be deleted? */
  isDeletable(deviceId: string, fromTs: number, toTs: number): boolean | Promise<boolean>;
}

/** Until the sessions layer says otherwise, the oldest readings simply go first. */
export const DELETE_OLDEST_POLICY: RetentionPolicy = { isDeletable: () => true };

/** A pass frees down to this share of maxBytes, so that it does not run again after every batch. */
export const RETENTION_LOW_WATER_RATIO = 0.9;
/** Retention also runs this often; a pass that found everything protected is not retried sooner. */
export const RETENTION_INTERVAL_MS = 60_000;
/** Blocks deleted per batch: small batches keep appends flowing between them. */
const DELETE_CHUNK_BLOCKS = 256;
const INDEX_ENTRIES_PER_FETCH = 256;

export interface RetentionResult {
  deletedBlocks: number;
  deletedReadings: number;
  freedBytes: number;
  /** Blocks the policy protected on the way. */
  keptBlocks: number;
  /** False when the store is still over the target after looking at every block. */
  reachedTarget: boolean;
}

export interface RetentionPassDeps {
  index: {
    iterator(options: { gt: string; lt: string }): {
      nextv(size: number): Promise<Array<[string, Buffer]>>;
      close(): Promise<void>;
    };
  };
  policy: RetentionPolicy;
  /** The store's byte count now (it changes as batches are written meanwhile). */
  bytes(): number;
  targetBytes: number;
  /** Deletes blocks through the writer (atomic with the counters); resolves once durable. */
  deleteBlocks(entries: BlockEntry[]): Promise<void>;
  /** True once the store is closing: stop between chunks. */
  stopped(): boolean;
  log: Logger;
}

/** Walks the time index oldest first and deletes what the policy allows until the store is under the target. */
export async function runRetentionPass(deps: RetentionPassDeps): Promise<RetentionResult> {
  const result: RetentionResult = { deletedBlocks: 0, deletedReadings: 0, freedBytes: 0, keptBlocks: 0, reachedTarget: false };
  let chunk: BlockEntry[] = [];
  let chunkBytes = 0;
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    await deps.deleteBlocks(chunk);
    result.deletedBlocks += chunk.length;
    result.deletedReadings += chunk.reduce((sum, entry) => sum + entry.count, 0);
    result.freedBytes += chunkBytes;
    chunk = [];
    chunkBytes = 0;
  };
  const iterator = deps.index.iterator(TIME_INDEX_RANGE);
  try {
    while (!deps.stopped()) {
      const entries = await iterator.nextv(INDEX_ENTRIES_PER_FETCH);
      if (entries.length === 0) break;
      for (const [key, value] of entries) {
        if (deps.bytes() - chunkBytes <= deps.targetBytes) {
          result.reachedTarget = true;
          break;
        }
        const entry = decodeIndexValue(parseBlockKeyTail(key).blockSeq, value);
        if (await isDeletable(deps, entry)) {
          chunk.push(entry);
          chunkBytes += entry.bytes;
          if (chunk.length >= DELETE_CHUNK_BLOCKS) await flush();
        } else {
          result.keptBlocks += 1;
        }
      }
      if (result.reachedTarget) break;
    }
  } finally {
    await iterator.close();
  }
  await flush();
  result.reachedTarget = deps.bytes() <= deps.targetBytes;
  return result;
}

async function isDeletable(deps: RetentionPassDeps, entry: BlockEntry): Promise<boolean> {
  try {
    return await deps.policy.isDeletable(entry.deviceId, entry.firstTs, entry.lastTs);
  } catch (err) {
    // A policy that fails protects: deleting readings nobody could vouch for is the worse mistake.
    deps.log.warn({ err, deviceId: entry.deviceId }, 'retention policy failed; block kept');
    return false;
  }
}

export interface RetentionSchedulerDeps {
  log: Logger;
  clock: Clock;
  maxBytes: number;
  /** The store's LevelDB (it changes when the store reopens after a failed write). */
  index(): RetentionPassDeps['index'];
  bytes(): number;
  deleteBlocks(entries: BlockEntry[]): Promise<void>;
  /** False once the store is closing or cannot write. */
  active(): boolean;
}

/** Runs retention passes one at a time: on demand, after appends that cross maxBytes, and on an interval. */
export class RetentionScheduler {
  private running: Promise<RetentionResult> | undefined;
  private idleUntil = -Infinity;

  constructor(
    private readonly deps: RetentionSchedulerDeps,
    private policy: RetentionPolicy,
  ) {}

  setPolicy(policy: RetentionPolicy): void {
    this.policy = policy;
    this.idleUntil = -Infinity;
  }

  /** Starts a pass in the background if over maxBytes; `fromInterval` ignores the pause after a fruitless pass. */
  kick(fromInterval: boolean): void {
    if (this.running || !this.deps.active() || this.deps.bytes() <= this.deps.maxBytes) return;
    if (!fromInterval && this.deps.clock.now() < this.idleUntil) return;
    this.run().catch((err: unknown) => this.deps.log.error({ err }, 'retention pass failed'));
  }

  /** Runs a pass now, or joins the one running. */
  run(): Promise<RetentionResult> {
    this.running ??= this.passes().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async settled(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private async passes(): Promise<RetentionResult> {
    const { deps } = this;
    const bytesBefore = deps.bytes();
    const total: RetentionResult = { deletedBlocks: 0, deletedReadings: 0, freedBytes: 0, keptBlocks: 0, reachedTarget: true };
    // Another pass when one freed space without getting under the target: blocks written while it ran were
    // not in the index it walked.
    while (deps.bytes() > deps.maxBytes && deps.active()) {
      const result = await runRetentionPass({
        index: deps.index(),
        policy: this.policy,
        bytes: deps.bytes,
        targetBytes: Math.floor(deps.maxBytes * RETENTION_LOW_WATER_RATIO),
        deleteBlocks: deps.deleteBlocks,
        stopped: () => !deps.active(),
        log: deps.log,
      });
      total.deletedBlocks += result.deletedBlocks;
      total.deletedReadings += result.deletedReadings;
      total.freedBytes += result.freedBytes;
      total.keptBlocks = result.keptBlocks;
      total.reachedTarget = result.reachedTarget;
      if (result.reachedTarget || result.deletedBlocks === 0) break;
    }
    const fields = { ...total, bytesBefore, bytes: deps.bytes(), maxBytes: deps.maxBytes };
    if (!total.reachedTarget) {
      this.idleUntil = deps.clock.now() + RETENTION_INTERVAL_MS;
      deps.log.warn(fields, 'reading store over maxBytes: the readings left are protected by the retention policy');
    } else if (total.deletedBlocks > 0) {
      deps.log.info(fields, 'retention freed space');
    }
    return total;
  }
}
