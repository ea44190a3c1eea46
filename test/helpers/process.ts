import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Tests always run the TypeScript sources (a dist/ left by `npm run build` could be stale). */
export const GYMHUB_MAIN = `${REPO_ROOT}daemon/main.ts`;

/** The shared recordings: ../shared/data/barbell-imu beside the repo, or GYMHUB_SHARED_DATA. */
export const SHARED_DATA = process.env.GYMHUB_SHARED_DATA ?? fileURLToPath(new URL('../../../shared/data/barbell-imu/', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the gymhub CLI to completion. */
export function runGymhub(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 60_000): Promise<RunResult> {
  const child = spawnGymhub(args, env);
  return collect(child, timeoutMs);
}

export function spawnGymhub(args: string[], env: Record<string, string | undefined> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', GYMHUB_MAIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...cleanEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function collect(child: ChildProcess, timeoutMs = 60_000): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gymhub did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The test's environment without any GYMHUB_* variable a developer may have set. */
function cleanEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('GYMHUB_') && key !== 'NOTIFY_SOCKET') env[key] = value;
  return env;
}
