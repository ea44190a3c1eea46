/**
 * Script entry: `node --import tsx models/train-bundled.ts [gymhub train options]` rebuilds
 * models/bundled/model.json (npm run train). The one place here that touches `process`.
 */
import { runTrain } from './cli-train.js';

process.exitCode = await runTrain(process.argv.slice(2), process.stdout, { env: process.env, err: process.stderr });
