import { EVALUATE_USAGE, runEvaluate } from '../../models/cli-evaluate.js';
import { runTrain, TRAIN_USAGE } from '../../models/cli-train.js';
import { VERSION } from '../version.js';
import { UsageError, type CliIo } from './args.js';
import { REPLAY_HELP, replayCommand } from './replay-command.js';
import { RUN_HELP } from './run-command.js';

export const USAGE = `Usage: gymhub <command> [options]

Commands:
  run        run the hub daemon (what systemd starts)
  replay     stream a real recording to a hub over MQTT, serial or HTTP, as a device would
  train      train the exercise model on recordings (npm run train rebuilds the bundled one)
  evaluate   accuracy, macro-F1, confusion matrix and rep-count error of a model on recordings
  version    print the version

gymhub <command> --help describes each command.
`;

interface Command {
  help: string;
  run: (io: CliIo) => Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  replay: { help: REPLAY_HELP, run: replayCommand },
  train: { help: TRAIN_USAGE, run: (io) => runTrain(io.argv, io.stdout, { env: io.env, err: io.stderr }) },
  evaluate: { help: EVALUATE_USAGE, run: (io) => runEvaluate(io.argv, io.stdout, { env: io.env, err: io.stderr }) },
  version: { help: 'Usage: gymhub version\n\nPrints the version.\n', run: async (io) => { io.stdout.write(`${VERSION}\n`); return 0; } },
};

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
