import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCommand, USAGE } from '../../daemon/cli/commands.js';
import { runGymhub } from '../helpers/process.js';
import { captureIo } from './cli-io.js';

/** The commands USAGE lists: each must have its own --help. */
const LISTED = [...USAGE.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]);

describe('--help', () => {
  it('USAGE lists every command of SPEC section 10 this version has', () => {
    for (const name of ['run', 'demo', 'simulate', 'replay', 'status', 'devices', 'sessions', 'train', 'evaluate', 'token', 'version']) {
      assert.ok(LISTED.includes(name), `${name} is listed`);
    }
  });

  for (const name of LISTED.filter((n) => n !== 'run')) {
    it(`gymhub ${name} --help prints its usage and exits 0`, async () => {
      for (const flag of ['--help', '-h']) {
        const io = captureIo([flag]);
        assert.equal(await runCommand(name, io), 0);
        assert.match(io.out(), new RegExp(`^Usage: gymhub ${name}\\b`), `${name} ${flag}`);
      }
    });
  }

  it('through the entry point: gymhub --help, gymhub run --help, gymhub demo --help (child processes)', async () => {
    const [top, run, demo] = await Promise.all([runGymhub(['--help']), runGymhub(['run', '--help']), runGymhub(['demo', '--help'])]);
    assert.equal(top.code, 0);
    assert.equal(top.stdout, USAGE);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^Usage: gymhub run /);
    assert.equal(demo.code, 0);
    assert.match(demo.stdout, /^Usage: gymhub demo /);
  });

  it('an unknown command or flag is a usage error: exit 2 with the usage', async () => {
    const [unknown, badFlag] = await Promise.all([runGymhub(['frobnicate']), runGymhub(['status', '--frobnicate'])]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /Unknown option '--frobnicate'/);
  });
});
