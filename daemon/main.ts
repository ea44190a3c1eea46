/**
 * The entry point, and the only module that touches `process`: arguments, signals, exit codes.
 * Exit codes: 0 ok, 1 failure, 2 bad configuration or usage.
 */
import { ConfigError } from './errors.js';
import { UsageError, type CliIo } from './cli/args.js';
import { startDaemon } from './cli/run-command.js';
import { runCommand, SIGNAL_AWARE_COMMANDS, USAGE } from './cli/commands.js';
import { systemClock } from './clock.js';
import { SystemdNotifier } from './systemd/notify.js';

/** SIGTERM must end in an exit within systemd's patience; past this the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 10_000;
/** How often `systemctl status gymhub` gets a fresh STATUS= line. */
const SYSTEMD_STATUS_INTERVAL_MS = 10_000;

const io: CliIo = { argv: process.argv.slice(2), env: process.env, stdout: process.stdout, stderr: process.stderr };

async function main(): Promise<number> {
  const [command = 'help', ...rest] = io.argv;
  if (command !== 'run') {
    if (!SIGNAL_AWARE_COMMANDS.has(command)) return runCommand(command, { ...io, argv: rest });
    // demo and simulate stop cleanly on the first signal (sets ended, temporary data removed, summary
    // printed); a second one exits at once.
    const abort = new AbortController();
    const onSignal = () => {
      if (abort.signal.aborted) process.exit(130);
      abort.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    return runCommand(command, { ...io, argv: rest, signal: abort.signal });
  }

  const daemon = await startDaemon({ ...io, argv: rest });
  if (daemon === 'help') return 0;
  const { hub, log } = daemon;
  // Under systemd (Type=notify): READY=1 now that the store is open, drivers run and the API listens; watchdog
  // pings from this event loop; STATUS= every few seconds. Outside systemd all of it is a no-op.
  const notifier = new SystemdNotifier({ env: process.env, pid: process.pid, log: log.child({ component: 'systemd' }) });
  notifier.startWatchdog(systemClock);
  void notifier.ready(hub.statusLine());
  const statusTimer = setInterval(() => void notifier.status(hub.statusLine()), SYSTEMD_STATUS_INTERVAL_MS);
  statusTimer.unref();
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.info({ signal }, 'already stopping; signal ignored');
        return;
      }
      stopping = true;
      log.info({ signal }, 'stopping');
      clearInterval(statusTimer);
      void notifier.stopping('flushing buffered readings and closing the store');
      const deadline = setTimeout(() => {
        log.error({ deadlineMs: SHUTDOWN_DEADLINE_MS }, 'shutdown took too long; exiting');
        log.flush();
        resolve(1);
      }, SHUTDOWN_DEADLINE_MS);
      deadline.unref();
      hub.stop().then(
        async () => {
          clearTimeout(deadline);
          await notifier.stop();
          log.info('stopped');
          log.flush();
          resolve(0);
        },
        (err: unknown) => {
          log.error({ err }, 'stop failed');
          log.flush();
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

main().then(
  (code) => {
    process.exitCode = code;
    // Anything still holding the loop (a native handle) must not keep a stopped daemon alive.
    setTimeout(() => process.exit(code), 500).unref();
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`gymhub: ${err.message}\n`);
      process.exitCode = 2;
    } else if (err instanceof UsageError) {
      process.stderr.write(`gymhub: ${err.message}\n${USAGE}`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`gymhub: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
    setTimeout(() => process.exit(process.exitCode), 500).unref();
  },
);
