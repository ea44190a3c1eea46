import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateToken, hashToken } from '../api/auth.js';
import { openState, STATE_FILE_NAME } from '../state.js';
import { parseFlags, type CliIo } from './args.js';
import { API_TOKEN_FILE_NAME, exists, locateHub } from './hub-location.js';

export const TOKEN_HELP = `Usage: gymhub token [--data-dir DIR] [--config FILE]

Rotates the API token: makes a fresh one, stores its SHA-256 hash in <dataDir>/state.json and prints the
token once on stdout (it is stored nowhere else, except <dataDir>/api-token when the hub made that file at
first start: it is rewritten so that gymhub status keeps working). A running hub takes the new hash at once;
the old token stops working. Run it as the service's user (sudo -u gymhub gymhub token) on an installed hub.

Options:
  --data-dir DIR    the hub's data directory (default: as gymhub run finds it, else /var/lib/gymhub)
  --config FILE     the hub's config file (default /etc/gymhub/config.json when readable)
  -h, --help        this text
`;

export async function tokenCommand(io: CliIo): Promise<number> {
  const { values } = parseFlags(io.argv, {
    'data-dir': { type: 'string' }, config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(TOKEN_HELP);
    return 0;
  }
  const location = await locateHub({ env: io.env, configPath: values.config, dataDir: values['data-dir'] });
  const stateFile = join(location.dataDir, STATE_FILE_NAME);
  // Opening a missing state.json would make a new hub identity in a directory that is probably the wrong one.
  if (!(await exists(stateFile))) {
    io.stderr.write(`gymhub: no hub state at ${stateFile}: pass --data-dir (the data directory of gymhub run)\n`);
    return 1;
  }
  const token = generateToken();
  try {
    const state = await openState(location.dataDir);
    await state.setTokenHash(hashToken(token));
    const tokenFile = join(location.dataDir, API_TOKEN_FILE_NAME);
    if (await exists(tokenFile)) await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  } catch (err) {
    // openState wraps the fs error in a StateFileError, whose message keeps the errno name.
    const hint = /EACCES|EPERM/.test((err as Error).message) ? ' (run it as the service user: sudo -u gymhub gymhub token)' : '';
    io.stderr.write(`gymhub: cannot rotate the token in ${location.dataDir}: ${(err as Error).message}${hint}\n`);
    return 1;
  }
  io.stdout.write(`${token}\n`);
  if (location.config.api.token) {
    io.stderr.write('gymhub: warning: api.token (or GYMHUB_API_TOKEN) is set and replaces this token when the hub restarts: remove it from the config and environment\n');
  }
  return 0;
}
