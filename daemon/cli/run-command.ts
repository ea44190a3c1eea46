import { systemClock } from '../clock.js';
import { loadConfig, type Config } from '../config.js';
import { createLogger } from '../logger.js';
import { startHub, type Hub } from '../hub.js';
import { parseFlags, type CliIo } from './args.js';
import type { Logger } from 'pino';

export const RUN_HELP = `Usage: gymhub run [--config FILE] [--data-dir DIR] [--host H] [--port N] [--log-level L]

Runs the hub daemon: drivers (MQTT, serial, BLE), the LevelDB store and the LAN API.
Configuration: the JSON file (default /etc/gymhub/config.json, optional), then GYMHUB_* environment
variables, then these flags. Invalid configuration exits with code 2 and lists every problem.
`;

export interface RunningDaemon {
  hub: Hub;
  log: Logger;
}

/** Loads the configuration and starts the hub; the caller (daemon/main.ts) owns signals and exit codes. */
export async function startDaemon(io: CliIo): Promise<RunningDaemon | 'help'> {
  const { values } = parseFlags(io.argv, {
    config: { type: 'string', short: 'c' }, 'data-dir': { type: 'string' }, host: { type: 'string' }, port: { type: 'string' },
    'log-level': { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(RUN_HELP);
    return 'help';
  }
  const overrides: Record<string, unknown> = {};
  if (values['data-dir']) overrides.dataDir = values['data-dir'];
  if (values.host || values.port) overrides.http = { ...(values.host ? { host: values.host } : {}), ...(values.port ? { port: Number(values.port) } : {}) };
  if (values['log-level']) overrides.log = { level: values['log-level'] };
  const config = loadConfig({ path: values.config, env: io.env, overrides: overrides as Partial<Config> });
  const log = createLogger({ level: config.log.level });
  const hub = await startHub({ config, log, clock: systemClock });
  return { hub, log };
}
