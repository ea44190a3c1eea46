import { setMaxListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { generateToken } from '../api/auth.js';
import { systemClock, type Clock } from '../clock.js';
import { loadConfig, type Config } from '../config.js';
import { startHub, type Hub } from '../hub.js';
import { createLogger } from '../logger.js';
import type { Session } from '../sessions/types.js';
import { HubClient } from './api-client.js';
import { numberFlag, parseFlags, UsageError, type CliIo } from './args.js';
import { demoDevices, describeSource, playSet, type DemoDevice } from './demo-devices.js';
import { DemoTracker } from './demo-tracker.js';

export const DEMO_HELP = `Usage: gymhub demo [--port N] [--speed N] [--duration S] [--synthetic]

A whole hub with no setup: a temporary data directory (removed afterwards), the embedded MQTT broker on a
free loopback port, the API on 127.0.0.1 (port 8080, or a free one when 8080 is taken), serial and BLE off.
Two devices stream over MQTT exactly as real ones do, set after set, each set in a session started through
the API with the station's candidate exercises: a squat rack's sensor (squat) and a curl bench's (bicep curl
or shoulder press). They replay real recordings from ../shared/data/barbell-imu (or GYMHUB_SHARED_DATA);
where those are missing, synthetic devices do squat-like and curl-like motion. Every classified window is
printed as it happens, with the reps so far; Ctrl-C (or --duration) stops it and prints a summary.

Options:
  --port N          API port (default 8080, falling back to a free port when taken)
  --speed N         replay speed; 1 = real time (default). Faster squeezes the motion in time on the hub's
                    clock, which recognition may not take for the same exercise.
  --duration S      stop by itself after S seconds
  --synthetic       use synthetic devices even when the recordings are there
  -h, --help        this text
`;

const DEFAULT_PORT = 8080;
/** The pause between two sets, in real time (divided by --speed). */
const REST_BETWEEN_SETS_MS = 3_000;

/** `gymhub demo`. Aborting the signal (daemon/main.ts does on SIGINT/SIGTERM) stops it cleanly. */
export async function demoCommand(io: CliIo, signal: AbortSignal | undefined = io.signal, clock: Clock = systemClock): Promise<number> {
  const { values } = parseFlags(io.argv, {
    port: { type: 'string' }, speed: { type: 'string' }, duration: { type: 'string' }, synthetic: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(DEMO_HELP);
    return 0;
  }
  const port = values.port === undefined ? undefined : numberFlag('port', values.port, DEFAULT_PORT);
  if (port !== undefined && (!Number.isInteger(port) || port > 65535)) throw new UsageError('--port must be an integer from 0 to 65535');
  const speed = numberFlag('speed', values.speed, 1);
  if (speed <= 0) throw new UsageError('--speed must be above 0');
  const durationS = values.duration === undefined ? undefined : numberFlag('duration', values.duration, 0);

  const log = createLogger({ level: io.env.GYMHUB_LOG_LEVEL ?? 'warn', destination: io.stderr });
  const devices = await demoDevices(io.env, values.synthetic === true);
  const dataDir = await mkdtemp(join(tmpdir(), 'gymhub-demo-'));
  const token = generateToken();
  let hub: Hub | undefined;
  try {
    hub = await startDemoHub({ dataDir, token, port, log, clock });
    const mqttPort = Number(hub.health().components.mqtt.port);
    if (!mqttPort) throw new Error('the embedded MQTT broker did not start');
    const apiUrl = `http://127.0.0.1:${hub.address.port}`;
    io.stdout.write(banner(apiUrl, token, mqttPort, dataDir, devices));

    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) stop.abort();
    const timer = durationS === undefined ? undefined : clock.setTimeout(() => stop.abort(), durationS * 1000);

    const started = clock.now();
    const tracker = new DemoTracker(io.stdout, devices.map((d) => d.deviceId), clock);
    tracker.attach(hub.bus);
    const api = new HubClient(apiUrl, token);
    const sessions = new DemoSessions(api, log);
    let failed = false;
    // A station that fails (its MQTT connection, say) is reported at once; the other carries on.
    await Promise.all(devices.map((device) =>
      runStation({ device, mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, speed, clock, log, signal: stop.signal, tracker, sessions }).catch((err: unknown) => {
        failed = true;
        io.stderr.write(`gymhub demo: ${device.deviceId}: ${(err as Error).message}\n`);
      }),
    ));
    clock.clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    tracker.detach(hub.bus);
    io.stdout.write(`\n${tracker.summary(clock.now() - started)}`);
    return failed ? 1 : 0;
  } finally {
    await hub?.stop();
    await rm(dataDir, { recursive: true, force: true });
    log.flush();
  }
}

interface DemoHubOptions {
  dataDir: string;
  token: string;
  /** undefined: 8080, or a free port when it is taken. */
  port: number | undefined;
  log: Logger;
  clock: Clock;
}

async function startDemoHub({ dataDir, token, port, log, clock }: DemoHubOptions): Promise<Hub> {
  const config = (apiPort: number): Readonly<Config> => loadConfig({
    env: {},
    readFile: () => undefined,
    overrides: {
      dataDir,
      http: { host: '127.0.0.1', port: apiPort },
      api: { token },
      mqtt: { url: 'off', embeddedPort: 0, embeddedHost: '127.0.0.1' },
      serial: { ports: 'off' },
      ble: { enabled: false },
      mdns: { enabled: false },
    },
  });
  try {
    return await startHub({ config: config(port ?? DEFAULT_PORT), log, clock });
  } catch (err) {
    if (port !== undefined || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    return startHub({ config: config(0), log, clock });
  }
}

function banner(apiUrl: string, token: string, mqttPort: number, dataDir: string, devices: DemoDevice[]): string {
  return [
    'gymhub demo: a hub, its embedded MQTT broker, and devices streaming sets of exercises.',
    `  API      ${apiUrl}   (docs: ${apiUrl}/docs)`,
    `  token    ${token}`,
    `  try      curl -H 'Authorization: Bearer ${token}' ${apiUrl}/api/v1/devices`,
    `  MQTT     mqtt://127.0.0.1:${mqttPort}`,
    `  data     ${dataDir} (removed when the demo stops)`,
    ...devices.map((d) => `  device   ${d.deviceId}: ${describeSource(d)}; station candidates ${d.candidates.join(', ')}`),
    'Ctrl-C stops the demo.',
    '',
  ].join('\n') + '\n';
}

interface StationOptions {
  device: DemoDevice;
  mqttUrl: string;
  speed: number;
  clock: Clock;
  log: Logger;
  signal: AbortSignal;
  tracker: DemoTracker;
  sessions: DemoSessions;
}

/** Set after set until stopped: a session per set (when the hub has sessions), a rest between sets. */
async function runStation({ device, mqttUrl, speed, clock, log, signal, tracker, sessions }: StationOptions): Promise<void> {
  for (let set = 1; !signal.aborted; set++) {
    const sessionId = await sessions.start(device);
    tracker.setStarted(device.deviceId, sessionId);
    // The replayer adds an abort listener per paced wait and keeps it until the signal goes: a signal of the
    // set's own bounds them (and Node's listener-leak warning) to one set.
    const setAbort = new AbortController();
    setMaxListeners(0, setAbort.signal);
    const forward = () => setAbort.abort();
    signal.addEventListener('abort', forward, { once: true });
    if (signal.aborted) setAbort.abort(); // stopped while the session was being started
    try {
      await playSet({ device, mqttUrl, speed, set, clock, log, signal: setAbort.signal });
    } finally {
      signal.removeEventListener('abort', forward);
      const session = sessionId === undefined ? undefined : await sessions.end(sessionId);
      tracker.setEnded(device.deviceId, session, device.source.kind === 'recording' ? device.source.reps : undefined, !signal.aborted);
    }
    await pause(clock, REST_BETWEEN_SETS_MS / speed, signal);
  }
}

/** Sessions through the API, as the gym's app would start and end them; a hub without the route just has none. */
class DemoSessions {
  private available = true;

  constructor(private readonly api: HubClient, private readonly log: Logger) {}

  /** The new session's id; undefined when the hub has no sessions or would not start one (the set runs anyway). */
  async start(device: DemoDevice): Promise<string | undefined> {
    if (!this.available) return undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      const answer = await this.api.request<Session & { details?: { activeSessionId?: string } }>('POST', '/api/v1/sessions', { deviceId: device.deviceId, candidates: device.candidates });
      if (answer.status === 201) return answer.body.id;
      if (answer.status === 404) {
        if (this.available) this.log.warn('this hub has no sessions API: the demo runs without sessions');
        this.available = false;
        return undefined;
      }
      // The hub may have opened one by itself on motion: end it and start ours.
      const running = answer.status === 409 ? answer.body.details?.activeSessionId : undefined;
      if (running === undefined) {
        this.log.warn({ deviceId: device.deviceId, status: answer.status, body: answer.body }, 'could not start a session: this set runs without one');
        return undefined;
      }
      await this.end(running);
    }
    this.log.warn({ deviceId: device.deviceId }, 'the device keeps an active session: this set runs without one of its own');
    return undefined;
  }

  /** The ended session, or undefined when the hub could not end it (logged: the demo carries on). */
  async end(sessionId: string): Promise<Session | undefined> {
    try {
      const answer = await this.api.request<Session>('PATCH', `/api/v1/sessions/${sessionId}`, { end: true });
      if (answer.status === 200) return answer.body;
      this.log.warn({ sessionId, status: answer.status, body: answer.body }, 'could not end the session');
    } catch (err) {
      this.log.warn({ err, sessionId }, 'could not end the session');
    }
    return undefined;
  }
}

function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const onAbort = () => {
      clock.clearTimeout(timer);
      resolve();
    };
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
