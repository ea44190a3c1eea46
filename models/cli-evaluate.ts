import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliContext } from './cli-train.js';
import { defaultDataDir } from './data-dir.js';
import { isModelError } from './errors.js';
import { evaluateDataset, formatEvaluation } from './evaluate.js';
import { loadBundledModel, loadModelFile } from './load-model.js';
import { Recognizer } from './recognizer.js';

export const EVALUATE_USAGE = `Usage: gymhub evaluate --data DIR [--model FILE] [--classes a,b,...] [--no-smoothing] [--json]

Evaluates a model on recordings laid out like shared/data/barbell-imu (folder name = true label, rep count
in the file name as _reps10_ or _rep10_): window accuracy, macro-F1, per-class precision/recall, the
confusion matrix (rows = true, columns = predicted) and the rep-count error per set. Windows are scored as
the hub reports them live: each set is a stream, with the model's temporal smoothing of probabilities.
  --model FILE     model file (default: the bundled model)
  --classes a,b    restrict recognition to these classes, as a session's candidates do; sets of
                   other exercises are then left out (a station with candidates never sees them)
  --no-smoothing   score every window on its own, without the model's temporal smoothing
  --json           print one JSON object
`;

/** `gymhub evaluate`; resolves to the exit code (0 ok, 1 failed, 2 usage). */
export async function runEvaluate(argv: string[], out: NodeJS.WritableStream, context: CliContext = {}): Promise<number> {
  const err = context.err ?? out;
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        data: { type: 'string' },
        model: { type: 'string' },
        classes: { type: 'string' },
        json: { type: 'boolean', default: false },
        'no-smoothing': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    err.write(`gymhub evaluate: ${(e as Error).message}\n${EVALUATE_USAGE}`);
    return 2;
  }
  if (values.help) {
    out.write(EVALUATE_USAGE);
    return 0;
  }
  const candidates = values.classes
    ?.split(',')
    .map((c) => c.trim())
    .filter((c) => c.length > 0);
  try {
    const model = values.model ? await loadModelFile(resolve(values.model)) : await loadBundledModel();
    const recognizer = new Recognizer(model);
    const dir = values.data ? resolve(values.data) : await defaultDataDir(context.env);
    const result = await evaluateDataset(dir, recognizer, { candidates, smoothing: !values['no-smoothing'] });
    out.write(values.json ? `${JSON.stringify(result)}\n` : formatEvaluation(result));
    return 0;
  } catch (e) {
    if (values.json && isModelError(e)) {
      out.write(`${JSON.stringify({ error: e.code, message: e.message })}\n`);
    } else {
      err.write(`gymhub evaluate: ${isModelError(e) ? e.message : (e as Error).stack}\n`);
    }
    return isModelError(e) && e.code === 'unknown_class' ? 2 : 1;
  }
}
