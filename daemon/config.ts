import { readFileSync } from 'node:fs';
import Value from 'typebox/value';
import { ConfigError } from './errors.js';
import { ConfigSchema, type Config } from './config-schema.js';

export type { Config } from './config-schema.js';

export const DEFAULT_CONFIG_PATH = '/etc/gymhub/config.json';

export interface LoadConfigOptions {
  /** Explicit --config path: it must exist. Without it the default path is read when present. */
  path?: string;
  env?: Record<string, string | undefined>;
  /** Flag overrides, already in the config's shape (highest precedence). */
  overrides?: DeepPartial<Config>;
  /** Reads a file; injectable for tests. Returns undefined when the file does not exist. */
  readFile?: (path: string) => string | undefined;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

/**
 * File, then GYMHUB_* environment, then flags; checked against the schema once; frozen.
 * Throws ConfigError listing every problem (the entry point turns that into exit code 2).
 */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<Config> {
  const env = options.env ?? {};
  const readFile = options.readFile ?? readIfExists;
  const problems: string[] = [];

  const path = options.path ?? DEFAULT_CONFIG_PATH;
  let fromFile: Record<string, unknown> = {};
  let text: string | undefined;
  try {
    text = readFile(path);
  } catch (err) {
    problems.push(`${path}: cannot read: ${(err as Error).message}`);
  }
  if (text === undefined && options.path !== undefined && problems.length === 0) problems.push(`${path}: no such file`);
  if (text !== undefined) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) problems.push(`${path}: must hold a JSON object`);
      else fromFile = parsed as Record<string, unknown>;
    } catch (err) {
      problems.push(`${path}: not valid JSON: ${(err as Error).message}`);
    }
  }

  const merged = deepMerge(deepMerge({ dataDir: defaultDataDir(env) }, fromFile), envOverrides(env, problems));
  const candidate = deepMerge(merged, (options.overrides ?? {}) as Record<string, unknown>);
  const withDefaults = Value.Default(ConfigSchema, structuredClone(candidate));
  for (const error of Value.Errors(ConfigSchema, withDefaults)) {
    if (error.keyword === 'boolean' && error.message === 'schema is false') continue; // reported as additionalProperties
    problems.push(describe(error.instancePath, error.message, error.params));
  }
  if (problems.length === 0) problems.push(...crossChecks(withDefaults as Config));
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(withDefaults as Config);
}

/** Rules the schema cannot say on its own. */
function crossChecks(config: Config): string[] {
  const problems: string[] = [];
  if (config.mqtt.url !== 'off' && !/^(mqtts?|tcp|tls|wss?):\/\/[^\s]+$/.test(config.mqtt.url)) {
    problems.push(`mqtt.url: must be 'off' or a broker URL like mqtt://127.0.0.1:1883, got ${JSON.stringify(config.mqtt.url)}`);
  }
  if (config.storage.hardMaxBytes !== undefined && config.storage.hardMaxBytes < config.storage.maxBytes) {
    problems.push('storage.hardMaxBytes: must be at least storage.maxBytes');
  }
  if (config.sync.postgresUrl !== undefined && !/^postgres(ql)?:\/\//.test(config.sync.postgresUrl)) {
    problems.push('sync.postgresUrl: must be a postgres:// or postgresql:// URL');
  }
  return problems;
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** systemd's StateDirectory= sets STATE_DIRECTORY; elsewhere the data lives beside the working directory. */
function defaultDataDir(env: Record<string, string | undefined>): string {
  if (env.STATE_DIRECTORY) return env.STATE_DIRECTORY.split(':')[0];
  if (env.INVOCATION_ID) return '/var/lib/gymhub';
  return './data';
}

function envOverrides(env: Record<string, string | undefined>, problems: string[]): Record<string, unknown> {
  const out: Record<string, Record<string, unknown> | string> = {};
  const section = (name: string) => ((out[name] ??= {}) as Record<string, unknown>);
  const int = (name: string, value: string): number | string => {
    if (/^\d+$/.test(value.trim())) return Number(value);
    problems.push(`${name}: must be an integer, got ${JSON.stringify(value)}`);
    return value;
  };

  if (env.GYMHUB_DATA_DIR) out.dataDir = env.GYMHUB_DATA_DIR;
  if (env.GYMHUB_HTTP_HOST) section('http').host = env.GYMHUB_HTTP_HOST;
  if (env.GYMHUB_HTTP_PORT) section('http').port = int('GYMHUB_HTTP_PORT', env.GYMHUB_HTTP_PORT);
  if (env.GYMHUB_HTTP_CORS_ORIGINS !== undefined) section('http').corsOrigins = env.GYMHUB_HTTP_CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean);
  if (env.GYMHUB_API_TOKEN) section('api').token = env.GYMHUB_API_TOKEN;
  if (env.GYMHUB_MQTT_URL) section('mqtt').url = env.GYMHUB_MQTT_URL;
  if (env.GYMHUB_MQTT_EMBEDDED_PORT) section('mqtt').embeddedPort = int('GYMHUB_MQTT_EMBEDDED_PORT', env.GYMHUB_MQTT_EMBEDDED_PORT);
  if (env.GYMHUB_SERIAL) {
    const value = env.GYMHUB_SERIAL.trim();
    section('serial').ports = value === 'auto' || value === 'off' ? value : value.split(',').map((p) => p.trim()).filter(Boolean);
  }
  if (env.GYMHUB_BLE) {
    const value = env.GYMHUB_BLE.trim().toLowerCase();
    if (value === 'on' || value === 'off') section('ble').enabled = value === 'on';
    else problems.push(`GYMHUB_BLE: must be 'on' or 'off', got ${JSON.stringify(env.GYMHUB_BLE)}`);
  }
  if (env.GYMHUB_PG_URL) section('sync').postgresUrl = env.GYMHUB_PG_URL;
  if (env.GYMHUB_LOG_LEVEL) section('log').level = env.GYMHUB_LOG_LEVEL;
  return out;
}

function describe(path: string, message: string, params: Record<string, unknown>): string {
  const where = path === '' ? '(top level)' : path.slice(1).replaceAll('/', '.');
  if (Array.isArray(params.additionalProperties)) return `${where}: unknown setting(s) ${params.additionalProperties.map((p) => JSON.stringify(p)).join(', ')}`;
  if (Array.isArray(params.requiredProperties)) return `${where}: missing ${params.requiredProperties.join(', ')}`;
  return `${where}: ${message}`;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const prior = out[key];
    out[key] = isPlainObject(prior) && isPlainObject(value) ? deepMerge(prior, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
