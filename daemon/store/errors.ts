import { GymhubError } from '../errors.js';

/**
 * The store's coded errors. They extend the hub's GymhubError so the API maps them without knowing the
 * store (`code` is the API's `error` field, `details` the context needed to act on it).
 */
export class StoreFullError extends GymhubError {
  constructor(message: string, details: { bytes?: number; hardMaxBytes?: number; cause?: string }) {
    super('store_full', message, 507, details);
  }
}

export class StoreClosedError extends GymhubError {
  constructor(state: string) {
    super('store_closed', `the reading store is ${state}`, 503, { state });
  }
}

/** LevelDB refused a write for a reason other than a full disk (an I/O error): nothing of the batch was acknowledged. */
export class StoreWriteError extends GymhubError {
  constructor(cause: string) {
    super('store_write_failed', `the reading store could not write: ${cause}`, 503, { cause });
  }
}

/** A reading the store cannot hold (bad device id or timestamp); the codec should have rejected it first. */
export class InvalidReadingError extends GymhubError {
  constructor(message: string, details: { deviceId?: unknown; ts?: unknown }) {
    super('invalid_reading', message, 400, details);
  }
}

export class InvalidCursorError extends GymhubError {
  constructor(cursor: string) {
    super('bad_cursor', 'invalid cursor: pass nextCursor from the previous page unchanged', 400, { cursor });
  }
}

/** The database on disk was written by an incompatible layout version. */
export class StoreFormatError extends GymhubError {
  constructor(found: unknown, expected: number) {
    super('store_format', `the reading store has layout version ${String(found)}, this hub reads ${expected}`, 500, { found, expected });
  }
}

/** The coded error for a failed LevelDB write: ENOSPC (and quota) mean full, anything else an I/O failure. */
export function errorOfFailedWrite(err: unknown, lifecycle: string): StoreFullError | StoreWriteError | StoreClosedError {
  const message = err instanceof Error ? err.message : String(err);
  if ((err as { code?: string } | undefined)?.code === 'LEVEL_DATABASE_NOT_OPEN') return new StoreClosedError(lifecycle);
  if (/ENOSPC|no space left|EDQUOT|quota exceeded/i.test(message)) {
    return new StoreFullError('the disk is full: readings are refused until space is freed', { cause: message });
  }
  return new StoreWriteError(message);
}
