/** Every error models/ throws on purpose, with a stable code the API maps to a 4xx answer. */
export type ModelErrorCode =
  | 'too_few_samples'
  | 'invalid_sample'
  | 'invalid_model'
  | 'feature_version_mismatch'
  | 'unknown_class'
  | 'model_not_found'
  | 'invalid_dataset';

export class ModelError extends Error {
  readonly code: ModelErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ModelErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ModelError';
    this.code = code;
    this.details = details;
  }
}

export function isModelError(err: unknown): err is ModelError {
  return err instanceof ModelError;
}
