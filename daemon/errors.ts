/**
 * Every error the hub raises on purpose, in one file (STYLE: coded error classes with the context to act on).
 * `statusCode` is what the API answers for it; `code` is the stable `error` field of the API's error body.
 */
export class GymhubError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly details?: unknown;

  constructor(code: string, message: string, statusCode = 500, details?: unknown) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.statusCode = statusCode;
    this.details = details;
  }
}

export class ConfigError extends GymhubError {
  readonly problems: string[];

  constructor(problems: string[]) {
    super('invalid_config', `invalid configuration:\n  - ${problems.join('\n  - ')}`, 500, problems);
    this.problems = problems;
  }
}

export class BadRequestError extends GymhubError {
  constructor(message: string, details?: unknown, code = 'bad_request') {
    super(code, message, 400, details);
  }
}

export class NotFoundError extends GymhubError {
  constructor(what: string, id: string) {
    super('not_found', `${what} ${JSON.stringify(id)} not found`, 404, { [what]: id });
  }
}

export class UnauthorizedError extends GymhubError {
  constructor(message = 'missing or invalid bearer token') {
    super('unauthorized', message, 401);
  }
}

export class ConflictError extends GymhubError {
  constructor(message: string, details?: unknown) {
    super('conflict', message, 409, details);
  }
}
