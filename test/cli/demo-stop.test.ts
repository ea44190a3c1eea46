import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { demoCommand } from '../../daemon/cli/demo-command.js';
import { repsInFileName } from '../../daemon/cli/demo-devices.js';
import { captureIo } from './cli-io.js';

const DEMO_DEFAULT_PORT = 8080;

/** Holds the demo's default port, unless something else on this machine already does. */
async function holdPort(port: number): Promise<Server | undefined> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('gymhub demo (in-process)', () => {
  it('takes a free port when 8080 is taken, streams synthetic devices, stops after --duration and cleans up', { timeout: 20_000 }, async () => {
    const held = await holdPort(DEMO_DEFAULT_PORT);
    try {
      const io = captureIo(['--synthetic', '--duration', '3']);
      assert.equal(await demoCommand(io), 0, io.err());
      const out = io.out();
      const port = Number(/^ {2}API {6}http:\/\/127\.0\.0\.1:(\d+) /m.exec(out)![1]);
      assert.notEqual(port, DEMO_DEFAULT_PORT);
      assert.match(out, /^ {2}device {3}squat-1: synthetic squat, 10 reps a set; station candidates squat$/m);
      assert.match(out, /^ {2}device {3}curl-1: synthetic bicep_curl, 10 reps a set; station candidates bicep_curl, shoulder_press$/m);
      // 50 Hz for ~3 s: both devices' readings went through MQTT into the hub's store.
      for (const device of ['squat-1', 'curl-1']) {
        const readings = Number(new RegExp(`^ {2}${device} +([\\d,]+) readings`, 'm').exec(out)![1].replace(/,/g, ''));
        assert.ok(readings >= 100 && readings <= 160, `${device}: ${readings} readings`);
      }
      const dataDir = /^ {2}data {5}(\S+) \(removed/m.exec(out)![1];
      await assert.rejects(access(dataDir), { code: 'ENOENT' });
    } finally {
      await new Promise<void>((resolve) => (held ? held.close(() => resolve()) : resolve()));
    }
  });

  it('stops cleanly when its signal is aborted (daemon/main.ts aborts it on SIGINT)', { timeout: 20_000 }, async () => {
    const abort = new AbortController();
    const io = captureIo(['--synthetic', '--port', '0'], {}, abort.signal);
    const running = demoCommand(io);
    await io.printed(/Ctrl-C stops the demo\.\n/);
    abort.abort();
    assert.equal(await running, 0, io.err());
    assert.match(io.out(), /^Summary after \d+s:$/m);
    assert.match(io.out(), /set 1 stopped/);
    const dataDir = /^ {2}data {5}(\S+) \(removed/m.exec(io.out())![1];
    await assert.rejects(access(dataDir), { code: 'ENOENT' });
  });

  it('reads the true rep count from the recordings\' file names', () => {
    assert.equal(repsInFileName('/x/squat/squat_adam_set1_reps10_1.csv'), 10);
    assert.equal(repsInFileName('/x/squat/squat_anuj_set1_rep10_1.csv'), 10);
    assert.equal(repsInFileName('shoulder_suzan_set2_reps8_1.csv'), 8);
    assert.equal(repsInFileName('odd.csv'), undefined);
  });
});
