/** What one batch writes, and what to change in memory once (and only once) it is durable. */
export interface CommitPlan {
  ops: BatchOp[];
  apply(): void;
}

export type BatchOp = { type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string };

export interface GroupCommitOptions<R> {
  /** Writes the batch durably (sync); rejects when nothing of it may be taken as written. */
  write(ops: BatchOp[]): Promise<void>;
  /** Builds one batch from every request waiting (possibly none, for background work). */
  plan(requests: R[]): CommitPlan;
  /** True while there is work to write even with no request waiting (compaction that fell due). */
  hasBackgroundWork(): boolean;
  /** How much a request weighs against maxWeightPerBatch (readings in it). */
  weight(request: R): number;
  maxWeightPerBatch: number;
  /** Turns a write failure into the error every request of that batch is rejected with. */
  onWriteError(err: unknown): Error;
  /** Milliseconds, for lastWriteMs. */
  now(): number;
}

interface Waiting<R> {
  request: R;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * One writer, one batch at a time. A request that arrives while a batch is being written waits for the next
 * batch, which takes everything that queued up meanwhile: under load, batches grow instead of multiplying,
 * and when idle a request is written at once (no timer, no added latency).
 */
export class GroupCommitWriter<R> {
  private queue: Waiting<R>[] = [];
  private queuedWeight = 0;
  private running: Promise<void> | undefined;
  private inFlightWeight = 0;
  private lastWriteDuration = 0;

  constructor(private readonly options: GroupCommitOptions<R>) {}

  submit(request: R): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.queuedWeight += this.options.weight(request);
      this.kick();
    });
  }

  /** Starts a batch if none is running and there is anything to write. */
  kick(): void {
    if (this.running) return;
    if (this.queue.length === 0 && !this.options.hasBackgroundWork()) return;
    this.running = this.loop();
  }

  /** Resolves once nothing is queued or being written. */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Readings waiting for a batch or in the batch being written. */
  get pendingWeight(): number {
    return this.queuedWeight + this.inFlightWeight;
  }

  get writing(): boolean {
    return this.running !== undefined;
  }

  get lastWriteMs(): number {
    return this.lastWriteDuration;
  }

  private async loop(): Promise<void> {
    try {
      while (this.queue.length > 0 || this.options.hasBackgroundWork()) {
        const ok = await this.writeBatch(this.take());
        // After a failed write, background work waits for the next kick rather than failing in a loop.
        if (!ok && this.queue.length === 0) return;
      }
    } finally {
      // In the same step as the last look at the queue: a request submitted after it starts a new loop.
      this.running = undefined;
    }
  }

  private take(): Waiting<R>[] {
    let weight = 0;
    let count = 0;
    while (count < this.queue.length) {
      const next = this.options.weight(this.queue[count].request);
      if (count > 0 && weight + next > this.options.maxWeightPerBatch) break;
      weight += next;
      count += 1;
    }
    const batch = this.queue.splice(0, count);
    this.queuedWeight -= weight;
    this.inFlightWeight = weight;
    return batch;
  }

  private async writeBatch(batch: Waiting<R>[]): Promise<boolean> {
    const started = this.options.now();
    try {
      const plan = this.options.plan(batch.map((w) => w.request));
      if (plan.ops.length > 0) await this.options.write(plan.ops);
      plan.apply();
      for (const waiting of batch) waiting.resolve();
      return true;
    } catch (err) {
      const error = this.options.onWriteError(err);
      for (const waiting of batch) waiting.reject(error);
      return false;
    } finally {
      this.inFlightWeight = 0;
      this.lastWriteDuration = this.options.now() - started;
    }
  }
}
