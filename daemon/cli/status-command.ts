import type { Health } from '../api/schemas.js';
import { HubApiError, HubClient } from './api-client.js';
import { parseFlags, UsageError, type CliIo } from './args.js';
import { findToken, localApiUrl, locateHub } from './hub-location.js';
import { dateTime, formatBytes, formatCount, formatDuration, textTable } from './text-table.js';

const CONNECTION_HELP = `  --url URL         the hub's API (default http://127.0.0.1:<http.port of the config, 8080>)
  --token T         API bearer token (default: GYMHUB_API_TOKEN, api.token of the config, or
                    <dataDir>/api-token when readable)
  --config FILE     the hub's config file (default /etc/gymhub/config.json when readable)
  --data-dir DIR    the hub's data directory (where api-token is looked for)
  --json            print the API's answer as JSON instead of text
  -h, --help        this text
`;

export const STATUS_HELP = `Usage: gymhub status [--url URL] [--token T] [--json]

Asks the hub's API for GET /health and prints a summary: version, hub id, uptime, the store, each transport,
sync and the model; with a token, also the devices streaming. Exit code 0 when the hub is ok, 1 when it is
degraded, answers 503 (store unusable) or cannot be reached.

Options:
${CONNECTION_HELP}`;

export const DEVICES_HELP = `Usage: gymhub devices [--url URL] [--token T] [--json]

Lists the devices the hub knows (GET /api/v1/devices): transport, online, rate, readings, drops, rejections,
battery, last seen. Exit code 1 when the hub cannot be reached or refuses the token.

Options:
${CONNECTION_HELP}`;

export const SESSIONS_HELP = `Usage: gymhub sessions [--device ID] [--status active|ended] [--label L] [--url URL] [--token T] [--json]

Lists sessions (GET /api/v1/sessions): device, status, label, predicted label, reps, start and length.
Exit code 1 when the hub cannot be reached or refuses the token.

Options:
  --device ID       only this device's sessions
  --status S        active or ended
  --label L         only sessions with this label
${CONNECTION_HELP}`;

const CONNECTION_FLAGS = {
  url: { type: 'string' }, token: { type: 'string' }, config: { type: 'string', short: 'c' }, 'data-dir': { type: 'string' },
  json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
} as const;

async function connect(io: CliIo, values: { url?: string; token?: string; config?: string; 'data-dir'?: string }): Promise<HubClient> {
  const location = await locateHub({ env: io.env, configPath: values.config, dataDir: values['data-dir'] });
  const url = values.url ?? localApiUrl(location.config);
  try {
    new URL(url);
  } catch {
    throw new UsageError(`--url ${JSON.stringify(url)} is not a URL`);
  }
  return new HubClient(url, await findToken(values.token, location));
}

/** Runs a command body, turning an unreachable or refusing hub into a message and exit code 1. */
async function reporting(io: CliIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (!(err instanceof HubApiError)) throw err;
    io.stderr.write(`gymhub: ${err.message}\n`);
    return 1;
  }
}

export async function statusCommand(io: CliIo): Promise<number> {
  const { values } = parseFlags(io.argv, CONNECTION_FLAGS);
  if (values.help) {
    io.stdout.write(STATUS_HELP);
    return 0;
  }
  const client = await connect(io, values);
  return reporting(io, async () => {
    const answer = await client.request<Health>('GET', '/health');
    if (answer.status !== 200 && answer.status !== 503) throw client.failure('GET', '/health', answer);
    const health = answer.body;
    const healthy = answer.status === 200 && health.status === 'ok';
    if (values.json) {
      io.stdout.write(`${JSON.stringify(health)}\n`);
      return healthy ? 0 : 1;
    }
    io.stdout.write(describeHealth(client.baseUrl, health, answer.status));
    const devices = await client.request<{ items?: DeviceItem[] } | undefined>('GET', '/api/v1/devices');
    if (devices.status === 200 && Array.isArray(devices.body?.items)) {
      const items = devices.body.items;
      const streaming = items.filter((d) => d.rate > 0);
      const rate = streaming.reduce((sum, d) => sum + d.rate, 0);
      io.stdout.write(`  ${'devices'.padEnd(8)} ${items.length} known, ${streaming.length} streaming, ${formatCount(Math.round(rate))} readings/s\n`);
    } else if (devices.status === 401) {
      io.stdout.write(`  ${'devices'.padEnd(8)} (no valid API token: pass --token to list them)\n`);
    }
    return healthy ? 0 : 1;
  });
}

type Component = { state: string; detail?: string } & Record<string, unknown>;

function describeHealth(url: string, health: Health, httpStatus: number): string {
  const lines = [`gymhub ${health.version} at ${url}: ${health.status}${httpStatus === 503 ? ' (503: the store is unusable)' : ''}`];
  lines.push(`  ${'hub'.padEnd(8)} ${health.hubId}, up ${formatDuration(health.uptimeS)}`);
  for (const [name, raw] of Object.entries(health.components)) {
    const component = raw as Component;
    const facts: string[] = [];
    if (name === 'store' && typeof component.bytes === 'number') {
      facts.push(formatBytes(component.bytes));
      if (typeof component.readings === 'number') facts.push(`${formatCount(component.readings)} readings`);
      if (typeof component.pendingReadings === 'number') facts.push(`${formatCount(component.pendingReadings)} pending`);
    }
    if (name === 'model') {
      if (typeof component.version === 'string') facts.push(`version ${component.version}`);
      if (Array.isArray(component.classes)) facts.push(component.classes.join(', '));
      if (typeof component.predictions === 'number') facts.push(`${formatCount(component.predictions)} windows classified`);
    }
    if (component.detail) facts.push(component.detail);
    lines.push(`  ${name.padEnd(8)} ${component.state.padEnd(11)} ${facts.join(', ')}`.trimEnd());
  }
  return `${lines.join('\n')}\n`;
}

interface DeviceItem {
  deviceId: string;
  transport: string | null;
  lastSeen: number | null;
  rate: number;
  readings: number;
  dropped: number;
  rejected: number;
  battery: number | null;
  online: boolean | null;
  paired: boolean;
}

export async function devicesCommand(io: CliIo, now: () => number = Date.now): Promise<number> {
  const { values } = parseFlags(io.argv, CONNECTION_FLAGS);
  if (values.help) {
    io.stdout.write(DEVICES_HELP);
    return 0;
  }
  const client = await connect(io, values);
  return reporting(io, async () => {
    const items = await client.list<DeviceItem>('/api/v1/devices');
    if (values.json) {
      io.stdout.write(`${JSON.stringify(items)}\n`);
      return 0;
    }
    if (items.length === 0) {
      io.stdout.write('no devices yet\n');
      return 0;
    }
    const rows = items.map((d) => [
      d.deviceId,
      d.transport ?? '-',
      d.online === null ? '-' : d.online ? 'yes' : 'no',
      d.rate.toFixed(d.rate < 10 ? 1 : 0),
      formatCount(d.readings),
      formatCount(d.dropped),
      formatCount(d.rejected),
      d.battery === null ? '-' : `${d.battery}`,
      d.paired ? 'yes' : 'no',
      d.lastSeen === null ? 'never' : `${formatDuration((now() - d.lastSeen) / 1000)} ago`,
    ]);
    io.stdout.write(textTable(['DEVICE', 'TRANSPORT', 'ONLINE', 'RATE/S', 'READINGS', 'DROPPED', 'REJECTED', 'BATTERY', 'PAIRED', 'LAST SEEN'], rows));
    return 0;
  });
}

interface SessionItem {
  id: string;
  deviceId: string;
  label?: string;
  predictedLabel?: string;
  reps?: number;
  startedAt: number;
  endedAt?: number;
  status: string;
}

export async function sessionsCommand(io: CliIo, now: () => number = Date.now): Promise<number> {
  const { values } = parseFlags(io.argv, {
    ...CONNECTION_FLAGS, device: { type: 'string' }, status: { type: 'string' }, label: { type: 'string' },
  });
  if (values.help) {
    io.stdout.write(SESSIONS_HELP);
    return 0;
  }
  if (values.status !== undefined && values.status !== 'active' && values.status !== 'ended') throw new UsageError('--status must be active or ended');
  const client = await connect(io, values);
  return reporting(io, async () => {
    const items = await client.list<SessionItem>('/api/v1/sessions', { deviceId: values.device, status: values.status, label: values.label });
    if (values.json) {
      io.stdout.write(`${JSON.stringify(items)}\n`);
      return 0;
    }
    if (items.length === 0) {
      io.stdout.write('no sessions\n');
      return 0;
    }
    const rows = items.map((s) => [
      s.id,
      s.deviceId,
      s.status,
      s.label ?? '-',
      s.predictedLabel ?? '-',
      s.reps === undefined ? '-' : String(s.reps),
      dateTime(s.startedAt),
      formatDuration(((s.endedAt ?? now()) - s.startedAt) / 1000),
    ]);
    io.stdout.write(textTable(['SESSION', 'DEVICE', 'STATUS', 'LABEL', 'PREDICTED', 'REPS', 'STARTED', 'LENGTH'], rows));
    return 0;
  });
}
