import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadConfig, type Config } from '../config.js';
import { STATE_FILE_NAME } from '../state.js';

/** Where a packaged hub keeps its data (systemd's StateDirectory=gymhub). */
export const SERVICE_DATA_DIR = '/var/lib/gymhub';
/** The plain-text token a hub writes at first start when it generated one (daemon/hub.ts). */
export const API_TOKEN_FILE_NAME = 'api-token';

export interface LocateOptions {
  env: Record<string, string | undefined>;
  /** --config: must exist and be valid. Without it the default file is read when readable. */
  configPath?: string;
  /** --data-dir wins over everything. */
  dataDir?: string;
}

export interface HubLocation {
  config: Readonly<Config>;
  /** The data directory in use: the flag, else the configured one, else the service's when it holds a hub. */
  dataDir: string;
}

/**
 * The hub's configuration and data directory as the CLI sees them: the same file, GYMHUB_* environment and
 * defaults as `gymhub run`. A default config file the user may not read (it is 0600, owned by the service)
 * is skipped rather than fatal, so `gymhub status` works for anyone; an explicit --config is not.
 */
export async function locateHub(options: LocateOptions): Promise<HubLocation> {
  let config: Readonly<Config>;
  try {
    config = loadConfig({ path: options.configPath, env: options.env });
  } catch (err) {
    if (options.configPath !== undefined) throw err;
    config = loadConfig({ env: options.env, readFile: () => undefined });
  }
  if (options.dataDir !== undefined) return { config, dataDir: resolve(options.dataDir) };
  const configured = resolve(config.dataDir);
  if (options.env.GYMHUB_DATA_DIR || (await exists(join(configured, STATE_FILE_NAME)))) return { config, dataDir: configured };
  if (await exists(join(SERVICE_DATA_DIR, STATE_FILE_NAME))) return { config, dataDir: SERVICE_DATA_DIR };
  return { config, dataDir: configured };
}

/** The local API's base URL for this configuration: loopback unless the API listens on one address only. */
export function localApiUrl(config: Readonly<Config>): string {
  const host = ['0.0.0.0', '::', ''].includes(config.http.host) ? '127.0.0.1' : config.http.host;
  const port = config.http.port === 0 ? 8080 : config.http.port;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** --token, then GYMHUB_API_TOKEN / api.token, then the token file a hub wrote at first start (when readable). */
export async function findToken(flag: string | undefined, location: HubLocation): Promise<string | undefined> {
  if (flag) return flag;
  if (location.config.api.token) return location.config.api.token;
  try {
    const text = (await readFile(join(location.dataDir, API_TOKEN_FILE_NAME), 'utf8')).trim();
    return text.length > 0 ? text : undefined;
  } catch {
    return undefined;
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
