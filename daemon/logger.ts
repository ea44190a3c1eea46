import pino, { type DestinationStream, type Logger } from 'pino';

/** Paths whose values never reach a log line (SPEC section 12: no secrets in logs). */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'apiToken',
  '*.apiToken',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
  'postgresUrl',
  '*.postgresUrl',
  'config.sync.postgresUrl',
  'config.api.token',
];

export interface LoggerOptions {
  level: string;
  destination?: DestinationStream;
}

/** pino JSON on stdout (journald under systemd), secrets redacted. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'gymhub' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** Hides the password of a URL (postgres://user:secret@host/db -> postgres://user:***@host/db) for logs and /health. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}
