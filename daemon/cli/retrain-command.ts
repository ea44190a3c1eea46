import { retrain, DEFAULT_RETRAIN_MAX_WINDOWS, type RetrainResult } from '../../sync/retrain.js';
import { migrate } from '../../sync/migrations.js';
import { redactPgMessage } from '../../sync/pg-redact.js';
import { BUNDLED_TRAIN_OPTIONS, loadBundledModel, type TrainOptions } from '../../models/index.js';
import { GymhubError } from '../errors.js';
import { redactUrl } from '../logger.js';
import { parseFlags, UsageError, type CliIo } from './args.js';

export const RETRAIN_HELP = `Usage: gymhub retrain --pg URL [options]

The cloud's retraining job: reads every hub's labelled sessions and their readings from Postgres, trains a
model the way a hub does (same windows, features and forest), evaluates it on held-out hubs (held-out devices
when there is one hub), and writes it to the models table with its metrics. It is published (hubs then pull
it) only when its held-out macro-F1 beats the newest published model's on the same held-out data, or when
none is published. Seeded: the same data and options give the same model.

Options:
  --pg URL                 the cloud Postgres (default: GYMHUB_PG_URL); TLS with ?sslmode=require
  --min-improvement X      publish only when macro-F1 improves by at least X (0 to 1; default 0)
  --seed N                 the forest's seed (default ${BUNDLED_TRAIN_OPTIONS.forest.seed})
  --trees N                trees in the forest (default ${BUNDLED_TRAIN_OPTIONS.forest.nEstimators})
  --max-depth N            deepest a tree grows (default ${BUNDLED_TRAIN_OPTIONS.forest.maxDepth})
  --max-windows N          training windows at most, newest sessions first (default ${DEFAULT_RETRAIN_MAX_WINDOWS})
  --no-augment             no tempo augmentation (faster; the bundled recipe adds each set at 4 tempos)
  --json                   one JSON object on stdout
  -h, --help               this text

Exit codes: 0 done (published or not: the output says which), 1 failed (Postgres unreachable, not enough
data, another retrain running), 2 bad arguments.
`;

const CONNECT_TIMEOUT_MS = 15_000;

export async function retrainCommand(io: CliIo): Promise<number> {
  const { values } = parseFlags(io.argv, {
    pg: { type: 'string' }, 'min-improvement': { type: 'string' }, seed: { type: 'string' }, trees: { type: 'string' },
    'max-depth': { type: 'string' }, 'max-windows': { type: 'string' }, 'no-augment': { type: 'boolean' },
    json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(RETRAIN_HELP);
    return 0;
  }
  const url = values.pg ?? io.env.GYMHUB_PG_URL;
  if (!url) throw new UsageError('retrain needs --pg URL (or GYMHUB_PG_URL)');
  if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError(`--pg must be a postgres:// URL, got ${redactUrl(url)}`);
  const minImprovement = numberIn('min-improvement', values['min-improvement'], 0, 1, false) ?? 0;
  const seed = numberIn('seed', values.seed, 0, 2 ** 31 - 1, true);
  const trees = numberIn('trees', values.trees, 1, 1000, true);
  const maxDepth = numberIn('max-depth', values['max-depth'], 1, 64, true);
  const maxWindows = numberIn('max-windows', values['max-windows'], 100, 10_000_000, true);
  const trainOptions: TrainOptions = {
    ...BUNDLED_TRAIN_OPTIONS,
    ...(values['no-augment'] ? { augmentSpeeds: [] } : {}),
    forest: {
      ...BUNDLED_TRAIN_OPTIONS.forest,
      ...(seed !== undefined ? { seed } : {}),
      ...(trees !== undefined ? { nEstimators: trees } : {}),
      ...(maxDepth !== undefined ? { maxDepth } : {}),
    },
  };

  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'gymhub-retrain' });
  // a connection lost mid-job surfaces as the failed query; this only keeps the event from crashing the process
  client.on('error', () => undefined);
  // pg's messages can name the user; a message passed up from below can carry the connection string
  const clean = (err: unknown) => redactPgMessage(describe(err), url);
  try {
    try {
      await client.connect();
      await migrate(client);
    } catch (err) {
      io.stderr.write(`gymhub retrain: cannot use Postgres at ${redactUrl(url)}: ${clean(err)}\n`);
      return 1;
    }
    const result = await retrain({
      client,
      baseline: loadBundledModel,
      minImprovement,
      trainOptions,
      maxTrainWindows: maxWindows,
      progress: (line) => io.stderr.write(`retrain: ${line}\n`),
    });
    io.stdout.write(values.json ? `${JSON.stringify(result)}\n` : formatResult(result));
    return 0;
  } catch (err) {
    io.stderr.write(`gymhub retrain: ${clean(err)}\n`);
    return 1;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Expected failures (ours, Postgres', the network's: they carry a code) in a line; anything else with its stack. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const coded = err instanceof GymhubError || typeof (err as { code?: unknown }).code === 'string';
  return coded ? err.message : (err.stack ?? err.message);
}

function numberIn(name: string, value: string | undefined, min: number, max: number, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function formatResult(r: RetrainResult): string {
  const m = r.metrics;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [
    `${r.published ? 'published' : 'not published'}: ${r.version} (${r.reason})`,
    `  held out by ${m.split.by}: ${m.split.heldOut.join(', ')} (${m.testSessions} sessions, ${m.heldOut.windows} windows)`,
    `  accuracy ${pct(m.heldOut.accuracy)}   macro-F1 ${m.heldOut.macroF1.toFixed(3)}   set accuracy ${pct(m.heldOut.setAccuracy)}`,
    `  compared with ${m.current.source} ${m.current.version}: accuracy ${pct(m.current.accuracy)}   macro-F1 ${m.current.macroF1.toFixed(3)}`,
    `  trained on ${r.trainedOn.sessions} sessions (${r.trainedOn.windows} windows) of hubs ${r.trainedOn.hubs.join(', ')}` +
      (r.trainedOn.incompleteSessions > 0 ? `; ${r.trainedOn.incompleteSessions} sessions still uploading left out` : ''),
    `  ${r.created ? 'new row' : 'row existed'} in models, sha256 ${r.sha256}`,
    `  in ${(r.durationMs / 1000).toFixed(1)} s`,
  ];
  return `${lines.join('\n')}\n`;
}
