import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { HubTrainer, HubTrainerOptions, PackedSession, TrainerOutcome } from './hub-trainer.js';
import { deserializeError, handleTrainerCall, type TrainerReply, type TrainerRequest } from './trainer-protocol.js';

/** A request without its id (distributed over the union, so each op keeps its own fields). */
type Call = TrainerRequest extends infer R ? (R extends TrainerRequest ? Omit<R, 'id'> : never) : never;

/** HubTrainer's steps, wherever they run. */
export class TrainerPort {
  private nextId = 1;

  constructor(
    readonly mode: 'worker' | 'in-thread',
    private readonly send: (request: TrainerRequest, transfer: ArrayBuffer[]) => Promise<unknown>,
    private readonly end: () => Promise<void>,
  ) {}

  init(options: HubTrainerOptions): Promise<void> {
    return this.call({ op: 'init', options }) as Promise<void>;
  }

  /** Hands the session's buffers over (they are unusable afterwards when a worker runs the trainer). */
  addTrainingSession(session: PackedSession): Promise<number> {
    return this.call({ op: 'train', session }, [session.ts.buffer as ArrayBuffer, session.values.buffer as ArrayBuffer]) as Promise<number>;
  }

  fit(): Promise<{ version: string; classes: string[] }> {
    return this.call({ op: 'fit' }) as Promise<{ version: string; classes: string[] }>;
  }

  addTestSession(session: PackedSession): Promise<void> {
    return this.call({ op: 'test', session }, [session.ts.buffer as ArrayBuffer, session.values.buffer as ArrayBuffer]) as Promise<void>;
  }

  outcome(): Promise<TrainerOutcome> {
    return this.call({ op: 'outcome' }) as Promise<TrainerOutcome>;
  }

  close(): Promise<void> {
    return this.end();
  }

  private call(call: Call, transfer: ArrayBuffer[] = []): Promise<unknown> {
    return this.send({ ...call, id: this.nextId++ } as TrainerRequest, transfer);
  }
}

/**
 * A worker thread when possible: training takes seconds of CPU (minutes on a small Pi), and in a worker the
 * daemon's event loop keeps ingesting, acknowledging and answering meanwhile. The worker runs
 * train-worker.js next to this file (compiled) or train-worker.ts (from sources, through tsx: see
 * workerEntry). When the worker cannot start (tsx missing, no file), training falls back to this thread, yielding to the event loop between sessions; the forest's fit
 * is then one blocking step.
 */
export async function openTrainerPort(useWorker: boolean, log: Logger): Promise<TrainerPort> {
  if (useWorker) {
    try {
      return await openWorkerPort();
    } catch (err) {
      log.warn({ err }, 'training worker thread unavailable; training in the main thread (the API blocks while the forest is fitted)');
    }
  }
  return inThreadPort();
}

function inThreadPort(): TrainerPort {
  let trainer: HubTrainer | undefined;
  return new TrainerPort(
    'in-thread',
    async (request) => {
      await nextTurn();
      return unwrap(handleTrainerCall(request, () => trainer, (created) => (trainer = created)).message);
    },
    async () => {
      trainer = undefined;
    },
  );
}

async function openWorkerPort(): Promise<TrainerPort> {
  const worker = new Worker(workerEntry());
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  let failure: Error | undefined;
  const failAll = (err: Error) => {
    failure ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    const onExit = (code: number) => reject(new Error(`training worker exited with code ${code} before it was ready`));
    worker.once('error', onError);
    worker.once('exit', onExit);
    worker.once('message', (reply: TrainerReply) => {
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (reply.id === 0 && reply.ok) resolve();
      else reject(new Error('training worker did not report ready'));
    });
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  worker.on('message', (reply: TrainerReply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    if (reply.ok) p.resolve(reply.value);
    else p.reject(deserializeError(reply.error));
  });
  worker.on('error', (err: unknown) => failAll(err instanceof Error ? err : new Error(String(err))));
  worker.on('exit', (code) => failAll(new Error(`training worker exited with code ${code}`)));
  return new TrainerPort(
    'worker',
    (request, transfer) =>
      new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        pending.set(request.id, { resolve, reject });
        worker.postMessage(request, transfer);
      }),
    async () => {
      failAll(new Error('training worker closed'));
      await worker.terminate();
    },
  );
}

/**
 * Compiled: train-worker.js itself. From sources: a worker does not get the tsx loader from an inherited
 * `--import tsx` on Node 20, so a small ESM entry registers tsx's loader first and then imports the .ts file.
 */
function workerEntry(): URL {
  const entry = new URL(`./train-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
  if (!entry.pathname.endsWith('.ts')) return entry;
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(entry.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

function unwrap(reply: TrainerReply): unknown {
  if (reply.ok) return reply.value;
  throw deserializeError(reply.error);
}
