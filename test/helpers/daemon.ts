import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { spawnGymhub } from './process.js';

export interface DaemonProcess {
  child: ChildProcess;
  apiUrl: string;
  mqttPort?: number;
  /** Every log line so far (parsed JSON, or the raw text). */
  lines: Array<Record<string, unknown>>;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export const READY_TIMEOUT_MS = 30_000;

/** Spawns `gymhub run` and resolves once its 'gymhub ready' log line (level info) says where the API (and MQTT) listen. */
export async function startDaemonProcess(args: string[], env: Record<string, string>): Promise<DaemonProcess> {
  const child = spawnGymhub(['run', ...args], env);
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit');
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`daemon not ready within ${READY_TIMEOUT_MS} ms\n${stderr}`));
    }, READY_TIMEOUT_MS);
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { raw: text };
      }
      lines.push(line);
      if (line.msg === 'gymhub ready') {
        clearTimeout(timer);
        resolve(line);
      }
    });
    void exited.then(([code]) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code} before ready\n${stderr}\n${lines.map((l) => JSON.stringify(l)).join('\n')}`));
    });
  });
  const line = await ready;
  const api = line.api as { port: number };
  const mqtt = line.mqtt as { port?: number } | undefined;
  return {
    child,
    apiUrl: `http://127.0.0.1:${api.port}`,
    mqttPort: mqtt?.port,
    lines,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
      child.kill(signal);
      const [code, sig] = (await exited) as [number | null, NodeJS.Signals | null];
      return { code, signal: sig };
    },
  };
}

/** Every reading of a device through the API's cursor paging. */
export async function fetchAllReadings(apiUrl: string, token: string, deviceId: string): Promise<Array<{ seq?: number; ts: number }>> {
  const out: Array<{ seq?: number; ts: number }> = [];
  let cursor: string | null = null;
  do {
    const url = `${apiUrl}/api/v1/readings?deviceId=${encodeURIComponent(deviceId)}&limit=10000${cursor ? `&cursor=${cursor}` : ''}`;
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
    const page = (await response.json()) as { items: Array<{ seq?: number; ts: number }>; nextCursor: string | null };
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}
