import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCommand } from '../../daemon/cli/commands.js';
import { UsageError } from '../../daemon/cli/args.js';
import { captureIo } from '../cli/cli-io.js';
import { TEST_PG_PASSWORD } from '../helpers/postgres.js';
import { runGymhub } from '../helpers/process.js';
import { seedCloudSessions, setsOf, startCloudDb, type CloudDb } from './retrain-helpers.js';

const FAST = ['--trees', '10', '--no-augment'];

describe('gymhub retrain (the command)', () => {
  let db: CloudDb;
  before(async () => {
    db = await startCloudDb('retrain_cli');
    await seedCloudSessions(db.client, {
      'hub-north': [{ deviceId: 'rack-1', files: setsOf(['suzan', 'udai']) }],
      'hub-south': [{ deviceId: 'rack-1', files: setsOf(['adam', 'anuj', 'kamyar']) }],
    });
  });
  after(async () => db?.close());

  it('--help', async () => {
    const io = captureIo(['--help']);
    assert.equal(await runCommand('retrain', io), 0);
    assert.match(io.out(), /^Usage: gymhub retrain --pg URL/);
    assert.match(io.out(), /--min-improvement X/);
  });

  it('--json: one object on stdout, the model published; progress on stderr; no password anywhere', async () => {
    const io = captureIo(['--pg', db.url, '--json', ...FAST]);
    assert.equal(await runCommand('retrain', io), 0, io.err());
    const result = JSON.parse(io.out());
    assert.equal(result.published, true);
    assert.match(result.version, /^fv1-[0-9a-f]{12}$/);
    assert.match(result.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(result.metrics.split.heldOut, ['hub-north']);
    assert.equal(typeof result.metrics.heldOut.macroF1, 'number');
    assert.match(io.err(), /15 labelled sessions from 2 hubs; held out by hubs: hub-north/);
    assert.ok(!io.out().includes(TEST_PG_PASSWORD) && !io.err().includes(TEST_PG_PASSWORD));
    const { rows } = await db.client.query('SELECT version, published FROM models');
    assert.deepEqual(rows, [{ version: result.version, published: true }]);
  });

  it('says so when the model is not published (exit 0 all the same); GYMHUB_PG_URL stands in for --pg', async () => {
    const io = captureIo(FAST, { GYMHUB_PG_URL: db.url });
    assert.equal(await runCommand('retrain', io), 0, io.err());
    assert.match(io.out(), /^not published: fv1-[0-9a-f]{12} \(identical to the published model/);
    assert.match(io.out(), /held out by hubs: hub-north \(6 sessions, \d+ windows\)/);
    assert.match(io.out(), /trained on 9 sessions \(\d+ windows\) of hubs hub-south/);
  });

  it('bad arguments are usage errors: exit 2 through the entry point', async () => {
    await assert.rejects(runCommand('retrain', captureIo([])), UsageError);
    await assert.rejects(runCommand('retrain', captureIo(['--pg', db.url, '--min-improvement', '2'])), /--min-improvement must be a number from 0 to 1/);
    await assert.rejects(runCommand('retrain', captureIo(['--pg', db.url, '--trees', '0'])), UsageError);
    await assert.rejects(runCommand('retrain', captureIo(['--pg', 'mysql://x'])), /postgres:\/\/ URL/);
    const child = await runGymhub(['retrain', '--pg', db.url, '--trees', 'many']);
    assert.equal(child.code, 2);
    assert.match(child.stderr, /--trees must be an integer/);
    assert.ok(!child.stderr.includes(TEST_PG_PASSWORD));
  });

  it('failures exit 1 with the reason, the password never printed', async () => {
    const wrong = new URL(db.url);
    wrong.password = 'wrong-secret-7d2e';
    const denied = captureIo(['--pg', wrong.toString()]);
    assert.equal(await runCommand('retrain', denied), 1);
    assert.match(denied.err(), /cannot use Postgres at postgres:\/\/gymhub:\*\*\*@127\.0\.0\.1:\d+\/retrain_cli: password authentication failed/);
    assert.ok(!denied.err().includes('wrong-secret-7d2e'));

    const closed = new URL(db.url);
    closed.port = '1';
    const unreachable = captureIo(['--pg', closed.toString()]);
    assert.equal(await runCommand('retrain', unreachable), 1);
    assert.match(unreachable.err(), /ECONNREFUSED/);
    assert.ok(!unreachable.err().includes(TEST_PG_PASSWORD));

    const empty = await db.pg.createDatabase('retrain_cli_empty');
    const nothing = captureIo(['--pg', empty]);
    assert.equal(await runCommand('retrain', nothing), 1);
    assert.match(nothing.err(), /^gymhub retrain: retraining needs labelled sessions of at least two exercises/m);
  });
});
