import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface CliIo {
  argv: string[];
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Aborted on SIGINT/SIGTERM by daemon/main.ts, for the long-running commands (demo, simulate). */
  signal?: AbortSignal;
}

export class UsageError extends Error {}

/** parseArgs that turns unknown flags and bad values into a UsageError (exit code 2) instead of a stack trace. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function numberFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new UsageError(`--${name} must be a non-negative number, got ${JSON.stringify(value)}`);
  return parsed;
}
