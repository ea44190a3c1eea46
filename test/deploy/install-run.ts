/** Runs install.sh (or another command) to completion, for the deploy tests. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/process.js';

export const INSTALL_SH = join(REPO_ROOT, 'install.sh');
export const DEPLOY_DIR = join(REPO_ROOT, 'deploy');
const RUN_TIMEOUT_MS = 60_000;

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function run(command: string, args: string[], env: Record<string, string | undefined> = {}): Promise<CommandResult> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: RUN_TIMEOUT_MS });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/**
 * install.sh into a scratch root. npm ci and the build are skipped (GYMHUB_INSTALL_SKIP_NPM=1): they need the
 * registry and minutes, and what they produce is npm's and tsc's business, not the installer's.
 */
export function runInstall(args: string[], env: Record<string, string | undefined> = {}): Promise<CommandResult> {
  return run('bash', [INSTALL_SH, ...args], { GYMHUB_INSTALL_SKIP_NPM: '1', ...env });
}

/** True when the command is on PATH. */
export async function hasCommand(name: string): Promise<boolean> {
  return (await run('sh', ['-c', `command -v ${name}`])).code === 0;
}
