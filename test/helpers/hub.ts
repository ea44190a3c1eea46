import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { hashToken } from '../../daemon/api/auth.js';
import type { Clock } from '../../daemon/clock.js';
import { systemClock } from '../../daemon/clock.js';
import { loadConfig, type Config } from '../../daemon/config.js';
import { startHub, type Hub } from '../../daemon/hub.js';

export const TEST_TOKEN = 'test-token-0123456789abcdef';
export const AUTH = { authorization: `Bearer ${TEST_TOKEN}` };

export interface TestHub {
  hub: Hub;
  dataDir: string;
  close(): Promise<void>;
}

/** A whole hub in this process on loopback, every transport off unless the overrides switch it on. */
export async function startTestHub(overrides: Record<string, unknown> = {}, clock: Clock = systemClock, prepare?: (dataDir: string) => Promise<void>): Promise<TestHub> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gymhub-hub-'));
  await prepare?.(dataDir);
  const config: Readonly<Config> = loadConfig({
    env: {},
    readFile: () => undefined,
    overrides: {
      dataDir,
      http: { host: '127.0.0.1', port: 0 },
      api: { token: TEST_TOKEN },
      mqtt: { url: 'off' },
      serial: { ports: 'off' },
      ble: { enabled: false },
      ...overrides,
    } as Partial<Config>,
  });
  const hub = await startHub({ config, log: pino({ level: 'silent' }), clock });
  return {
    hub,
    dataDir,
    async close() {
      await hub.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export { hashToken };
