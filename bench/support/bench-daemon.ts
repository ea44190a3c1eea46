import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface BenchDaemon {
  child: ChildProcess;
  /** performance.now() when the 'gymhub ready' line arrived. */
  readyAt: number;
  apiPort: number;
  /** The embedded broker's port, when it runs. */
  mqttPort: number | undefined;
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number | null>;
  /** SIGTERM (unless it already exited), then its exit. */
  stop(): Promise<number | null>;
}

/**
 * A daemon child process for a bench: `args` after node (e.g. ['dist/daemon/main.js', 'run']), the given
 * GYMHUB_* environment on top of a loopback API on a free port and info logs; resolves once it logs
 * 'gymhub ready' (with its ports), and rejects (the process stopped) if it exits first.
 */
export async function startBenchDaemon(repo: string, args: string[], env: Record<string, string>): Promise<BenchDaemon> {
  const child = spawn(process.execPath, args, {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { PATH: process.env.PATH, GYMHUB_HTTP_HOST: '127.0.0.1', GYMHUB_HTTP_PORT: '0', GYMHUB_LOG_LEVEL: 'info', ...env },
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  try {
    const ready = await new Promise<{ readyAt: number; apiPort: number; mqttPort: number | undefined }>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (text) => {
        if (!text.includes('"gymhub ready"')) return;
        const line = JSON.parse(text) as { api: { port: number }; mqtt?: { port?: number } };
        resolve({ readyAt: performance.now(), apiPort: line.api.port, mqttPort: line.mqtt?.port });
      });
      void exited.then((code) => reject(new Error(`the daemon exited with ${code} before it was ready`)));
    });
    return { child, exited, stop, ...ready };
  } catch (err) {
    await stop();
    throw err;
  }
}
