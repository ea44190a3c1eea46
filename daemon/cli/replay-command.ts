import pino from 'pino';
import { systemClock } from '../clock.js';
import { replayRecording, type ReplayTarget } from '../../drivers/simulator/replay.js';
import { numberFlag, parseFlags, UsageError, type CliIo } from './args.js';

export const REPLAY_HELP = `Usage: gymhub replay FILE.csv (--mqtt URL | --serial PATH | --http URL) [options]

Streams a real recording (lines node,millis,ax,ay,az,gx,gy,gz,mx,my,mz as in shared/data/barbell-imu)
exactly as a device would: format (c) lines over serial (after a hello line), format (b) batches over
MQTT (QoS 1, retained status with last will) and HTTP.

Options:
  --mqtt URL        broker URL, e.g. mqtt://127.0.0.1:1883
  --prefix P        MQTT topic prefix (default gymhub)
  --serial PATH     serial port or pty, e.g. /dev/ttyUSB0
  --baud N          serial baud rate (default 115200)
  --http URL        hub API base URL, e.g. http://127.0.0.1:8080 (token from --token or GYMHUB_API_TOKEN)
  --token T         API bearer token for --http
  --device-id ID    the device's id (default replay-<file name>)
  --speed N         1 = real time (default), 10 = ten times faster, 0 = as fast as possible
  -h, --help        this text
`;

export async function replayCommand(io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(io.argv, {
    mqtt: { type: 'string' }, prefix: { type: 'string' }, serial: { type: 'string' }, baud: { type: 'string' },
    http: { type: 'string' }, token: { type: 'string' }, 'device-id': { type: 'string' }, speed: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  }, true);
  if (values.help) {
    io.stdout.write(REPLAY_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('replay takes exactly one FILE.csv');
  const targets = [values.mqtt, values.serial, values.http].filter((t) => t !== undefined);
  if (targets.length !== 1) throw new UsageError('give exactly one of --mqtt URL, --serial PATH, --http URL');
  let target: ReplayTarget;
  if (values.mqtt) target = { kind: 'mqtt', url: values.mqtt, prefix: values.prefix };
  else if (values.serial) target = { kind: 'serial', path: values.serial, baudRate: numberFlag('baud', values.baud, 115200) };
  else {
    const token = values.token ?? io.env.GYMHUB_API_TOKEN;
    if (!token) throw new UsageError('--http needs --token or GYMHUB_API_TOKEN');
    target = { kind: 'http', url: values.http!, token };
  }
  const abort = new AbortController();
  const result = await replayRecording({
    file: positionals[0],
    target,
    speed: numberFlag('speed', values.speed, 1),
    deviceId: values['device-id'],
    clock: systemClock,
    log: pino({ level: io.env.GYMHUB_LOG_LEVEL ?? 'warn' }, pino.destination(2)),
    signal: abort.signal,
  });
  io.stdout.write(`${JSON.stringify(result)}\n`);
  return 0;
}
