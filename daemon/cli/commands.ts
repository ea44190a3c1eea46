import { EVALUATE_USAGE, runEvaluate } from '../../models/cli-evaluate.js';
import { runTrain, TRAIN_USAGE } from '../../models/cli-train.js';
import { VERSION } from '../version.js';
import { UsageError, type CliIo } from './args.js';
import { DEMO_HELP, demoCommand } from './demo-command.js';
import { REPLAY_HELP, replayCommand } from './replay-command.js';
import { RETRAIN_HELP, retrainCommand } from './retrain-command.js';
import { RUN_HELP } from './run-command.js';
import { SIMULATE_HELP, simulateCommand } from './simulate-command.js';
import { DEVICES_HELP, devicesCommand, SESSIONS_HELP, sessionsCommand, STATUS_HELP, statusCommand } from './status-command.js';
import { TOKEN_HELP, tokenCommand } from './token-command.js';

export const USAGE = `Usage: gymhub <command> [options]

Commands:
  run        run the hub daemon (what systemd starts)
  demo       a whole hub with devices doing squats and curls, live recognition printed; no setup
  simulate   synthetic devices streaming to a hub over MQTT or HTTP
  replay     stream a real recording to a hub over MQTT, serial or HTTP, as a device would
  status     the hub's health: store, transports, sync, model, devices (exit 1 when not ok)
  devices    the devices the hub knows
  sessions   the hub's sessions
  token      rotate the API token (prints the new one once)
  train      train the exercise model on recordings (npm run train rebuilds the bundled one)
  evaluate   accuracy, macro-F1, confusion matrix and rep-count error of a model on recordings
  retrain    the cloud job: train on every hub's labelled sessions in Postgres, publish when better
  version    print the version

gymhub <command> --help describes each command.
`;

interface Command {
  help: string;
  run: (io: CliIo) => Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  demo: { help: DEMO_HELP, run: (io) => demoCommand(io) },
  simulate: { help: SIMULATE_HELP, run: (io) => simulateCommand(io) },
  replay: { help: REPLAY_HELP, run: replayCommand },
  status: { help: STATUS_HELP, run: statusCommand },
  devices: { help: DEVICES_HELP, run: (io) => devicesCommand(io) },
  sessions: { help: SESSIONS_HELP, run: (io) => sessionsCommand(io) },
  token: { help: TOKEN_HELP, run: tokenCommand },
  train: { help: TRAIN_USAGE, run: (io) => runTrain(io.argv, io.stdout, { env: io.env, err: io.stderr }) },
  evaluate: { help: EVALUATE_USAGE, run: (io) => runEvaluate(io.argv, io.stdout, { env: io.env, err: io.stderr }) },
  retrain: { help: RETRAIN_HELP, run: retrainCommand },
  version: { help: 'Usage: gymhub version\n\nPrints the version.\n', run: async (io) => { io.stdout.write(`${VERSION}\n`); return 0; } },
};

/** Commands that stop cleanly when io.signal is aborted: daemon/main.ts aborts it on SIGINT/SIGTERM. */
export const SIGNAL_AWARE_COMMANDS: ReadonlySet<string> = new Set(['demo', 'simulate']);

/** Every command except `run` (which daemon/main.ts drives itself, as it owns the signals). */
export async function runCommand(name: string, io: CliIo): Promise<number> {
  if (name === 'help' || name === '--help' || name === '-h') {
    io.stdout.write(USAGE);
    return 0;
  }
  if (name === '--version' || name === '-v') name = 'version';
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  if (io.argv.includes('--help') || io.argv.includes('-h')) {
    io.stdout.write(name === 'run' ? RUN_HELP : command.help);
    return 0;
  }
  return command.run(io);
}
