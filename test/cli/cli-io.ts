import { PassThrough } from 'node:stream';
import type { CliIo } from '../../daemon/cli/args.js';

export interface CapturedIo extends CliIo {
  out(): string;
  err(): string;
  /** Resolves once stdout has printed text matching the pattern. */
  printed(pattern: RegExp): Promise<string>;
}

/** A CliIo whose output the test reads, for running commands in-process. */
export function captureIo(argv: string[], env: Record<string, string | undefined> = {}, signal?: AbortSignal): CapturedIo {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  const waiters: Array<{ pattern: RegExp; resolve: (text: string) => void }> = [];
  stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const waiter of [...waiters]) {
      const match = waiter.pattern.exec(out);
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match[0]);
      }
    }
  });
  stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  return {
    argv,
    env,
    stdout,
    stderr,
    signal,
    out: () => out,
    err: () => err,
    printed: (pattern) =>
      new Promise((resolve) => {
        const match = pattern.exec(out);
        if (match) resolve(match[0]);
        else waiters.push({ pattern, resolve });
      }),
  };
}
