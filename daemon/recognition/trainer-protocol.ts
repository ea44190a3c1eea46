import { ModelError, isModelError, type ModelErrorCode } from '../../models/index.js';
import { HubTrainer, type HubTrainerOptions, type PackedSession } from './hub-trainer.js';

/** The steps of HubTrainer as messages: the same calls run in a worker thread or in the daemon's thread. */
export type TrainerRequest =
  | { id: number; op: 'init'; options: HubTrainerOptions }
  | { id: number; op: 'train'; session: PackedSession }
  | { id: number; op: 'fit' }
  | { id: number; op: 'test'; session: PackedSession }
  | { id: number; op: 'outcome' };

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  details?: Record<string, unknown>;
}

export type TrainerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

/** Runs one request against the trainer (created by 'init'); errors become a reply, never a throw. */
export function handleTrainerCall(
  request: TrainerRequest,
  current: () => HubTrainer | undefined,
  create: (trainer: HubTrainer) => void,
): { message: TrainerReply; transfer: ArrayBuffer[] } {
  try {
    if (request.op === 'init') {
      create(new HubTrainer(request.options));
      return { message: { id: request.id, ok: true, value: null }, transfer: [] };
    }
    const trainer = current();
    if (!trainer) throw new Error(`trainer not initialised before '${request.op}'`);
    let value: unknown = null;
    if (request.op === 'train') value = trainer.addTrainingSession(request.session);
    else if (request.op === 'fit') value = trainer.fit();
    else if (request.op === 'test') trainer.addTestSession(request.session);
    else value = trainer.outcome();
    return { message: { id: request.id, ok: true, value }, transfer: [] };
  } catch (err) {
    return { message: { id: request.id, ok: false, error: serializeError(err) }, transfer: [] };
  }
}

export function serializeError(err: unknown): SerializedError {
  if (isModelError(err)) return { name: 'ModelError', message: err.message, code: err.code, details: err.details };
  const e = err instanceof Error ? err : new Error(String(err));
  return { name: e.name, message: e.message };
}

export function deserializeError(error: SerializedError): Error {
  if (error.name === 'ModelError' && error.code) return new ModelError(error.code as ModelErrorCode, error.message, error.details);
  const e = new Error(error.message);
  e.name = error.name;
  return e;
}
