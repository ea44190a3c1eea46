import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../daemon/config.js';
import { startDaemonProcess } from '../helpers/daemon.js';
import { DEPLOY_DIR, INSTALL_SH, hasCommand, run, runInstall } from './install-run.js';

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

async function scratchRoot(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'gymhub-install-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  return root;
}

async function readConfig(root: string): Promise<{ api: { token: string }; mqtt?: { embeddedPort?: number } }> {
  return JSON.parse(await readFile(join(root, 'etc/gymhub/config.json'), 'utf8')) as { api: { token: string }; mqtt?: { embeddedPort?: number } };
}

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;
const countOf = (text: string, part: string) => text.split(part).length - 1;

test('installs into a scratch root twice: the second run keeps the config and its token and prints no token', async (t) => {
  const root = await scratchRoot(t);
  const first = await runInstall(['--prefix', root, '--no-systemd']);
  assert.equal(first.code, 0, first.stderr);

  const app = join(root, 'opt/gymhub');
  for (const file of ['bin/gymhub.js', 'package.json', 'package-lock.json', 'daemon/main.ts', 'sync/migrations.ts', 'web/index.html', 'models/bundled/model.json', 'deploy/gymhub.service', 'install.sh']) {
    assert.ok(existsSync(join(app, file)), `${file} is installed`);
  }
  for (const left of ['node_modules', '.git', 'data', 'dist', 'test', 'bench', 'test-artifacts']) assert.ok(!existsSync(join(app, left)), `${left} is not copied`);

  const config = await readConfig(root);
  assert.match(config.api.token, TOKEN_PATTERN, '256 random bits in base64url');
  assert.equal(config.mqtt?.embeddedPort, 1883, 'without Mosquitto the hub runs its own broker');
  assert.equal(countOf(first.stdout, config.api.token), 1, 'the token is printed once');
  assert.equal(await modeOf(join(root, 'etc/gymhub/config.json')), 0o600);
  assert.equal(await modeOf(join(root, 'var/lib/gymhub')), 0o750);
  const loaded = loadConfig({ path: join(root, 'etc/gymhub/config.json'), env: {} });
  assert.equal(loaded.api.token, config.api.token, 'the written config passes the daemon schema');

  const unit = await readFile(join(root, 'etc/systemd/system/gymhub.service'), 'utf8');
  const source = await readFile(join(DEPLOY_DIR, 'gymhub.service'), 'utf8');
  const { stdout: nodePath } = await run('sh', ['-c', 'command -v node']);
  assert.equal(unit, source.replace('ExecStart=/usr/bin/node ', `ExecStart=${nodePath.trim()} `), 'the unit, run by the node that was checked');
  assert.equal(await readFile(join(root, 'etc/udev/rules.d/99-gymhub-esp32.rules'), 'utf8'), await readFile(join(DEPLOY_DIR, '99-gymhub-esp32.rules'), 'utf8'));

  // An upgrade replaces the tree: a file the new version no longer has must not linger.
  await writeFile(join(app, 'left-from-an-old-version.js'), '');
  await chmod(join(root, 'etc/gymhub/config.json'), 0o644);
  const second = await runInstall(['--prefix', root, '--no-systemd']);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(await readConfig(root), config, 'the config and its token are kept');
  assert.equal(countOf(second.stdout, config.api.token), 0, 'no token printed on the second run');
  assert.doesNotMatch(second.stdout, /API token \(shown/);
  assert.match(second.stdout, /keeping .*config\.json/);
  assert.equal(await modeOf(join(root, 'etc/gymhub/config.json')), 0o600, 'the mode is put back to 0600');
  assert.ok(!existsSync(join(app, 'left-from-an-old-version.js')));
  assert.ok(!existsSync(`${app}.new`) && !existsSync(`${app}.old`), 'no staging tree left behind');

  const removed = await runInstall(['--prefix', root, '--no-systemd', '--uninstall']);
  assert.equal(removed.code, 0, removed.stderr);
  for (const gone of ['opt/gymhub', 'etc/systemd/system/gymhub.service', 'etc/udev/rules.d/99-gymhub-esp32.rules']) {
    assert.ok(!existsSync(join(root, gone)), `${gone} is removed`);
  }
  assert.deepEqual(await readConfig(root), config, 'the config is kept without --purge');
  assert.ok(existsSync(join(root, 'var/lib/gymhub')), 'the data is kept without --purge');
});

test('with Mosquitto: its gymhub settings are installed, the printed token opens the API, --purge removes everything', async (t) => {
  const root = await scratchRoot(t);
  await mkdir(join(root, 'etc/mosquitto/conf.d'), { recursive: true });
  // Debian's own mosquitto.conf: persistence and an include, but no listener.
  await writeFile(join(root, 'etc/mosquitto/mosquitto.conf'), 'persistence true\npersistence_location /var/lib/mosquitto/\ninclude_dir /etc/mosquitto/conf.d\n');
  const installed = await runInstall(['--prefix', root, '--no-systemd']);
  assert.equal(installed.code, 0, installed.stderr);
  assert.equal(await readFile(join(root, 'etc/mosquitto/conf.d/gymhub.conf'), 'utf8'), await readFile(join(DEPLOY_DIR, 'mosquitto-gymhub.conf'), 'utf8'));
  const config = await readConfig(root);
  assert.equal(config.mqtt, undefined, 'with Mosquitto the hub subscribes to it (the default URL)');
  const printed = /^\s+([A-Za-z0-9_-]{43})$/m.exec(installed.stdout)?.[1];
  assert.equal(printed, config.api.token);

  const dataDir = await mkdtemp(join(tmpdir(), 'gymhub-install-data-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const daemon = await startDaemonProcess(
    ['--config', join(root, 'etc/gymhub/config.json'), '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0'],
    { GYMHUB_MQTT_URL: 'off', GYMHUB_SERIAL: 'off', GYMHUB_BLE: 'off' },
  );
  try {
    const ok = await fetch(`${daemon.apiUrl}/api/v1/devices`, { headers: { authorization: `Bearer ${printed}` } });
    assert.equal(ok.status, 200);
    const wrong = await fetch(`${daemon.apiUrl}/api/v1/devices`, { headers: { authorization: `Bearer ${'x'.repeat(43)}` } });
    assert.equal(wrong.status, 401);
    assert.ok(!existsSync(join(dataDir, 'api-token')), 'a configured token means the daemon generates none');
  } finally {
    await daemon.kill();
  }

  const purged = await runInstall(['--prefix', root, '--no-systemd', '--uninstall', '--purge']);
  assert.equal(purged.code, 0, purged.stderr);
  for (const gone of ['opt/gymhub', 'etc/gymhub', 'var/lib/gymhub', 'etc/systemd/system/gymhub.service', 'etc/udev/rules.d/99-gymhub-esp32.rules', 'etc/mosquitto/conf.d/gymhub.conf']) {
    assert.ok(!existsSync(join(root, gone)), `${gone} is removed`);
  }
  assert.ok(existsSync(join(root, 'etc/mosquitto/mosquitto.conf')), "Mosquitto's own config is left alone");
});

test('a Mosquitto that already has a listener is left alone', async (t) => {
  const root = await scratchRoot(t);
  await mkdir(join(root, 'etc/mosquitto/conf.d'), { recursive: true });
  await writeFile(join(root, 'etc/mosquitto/conf.d/site.conf'), 'listener 1883 0.0.0.0\nallow_anonymous false\n');
  const installed = await runInstall(['--prefix', root, '--no-systemd']);
  assert.equal(installed.code, 0, installed.stderr);
  assert.ok(!existsSync(join(root, 'etc/mosquitto/conf.d/gymhub.conf')));
  assert.match(installed.stdout, /already has a listener in .*site\.conf/);
});

test('refuses an old Node.js with a clear message', async (t) => {
  const root = await scratchRoot(t);
  const bin = join(root, 'fake-bin');
  await mkdir(bin);
  await writeFile(join(bin, 'node'), '#!/bin/sh\necho 18.19.0\n', { mode: 0o755 });
  const result = await runInstall(['--prefix', join(root, 'target'), '--no-systemd'], { PATH: `${bin}:${process.env.PATH}` });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /needs Node\.js >= 20; .*node is 18\.19\.0/);
  assert.ok(!existsSync(join(root, 'target/opt/gymhub')), 'nothing installed');
});

test('usage: --help, and mistakes exit 2 with the usage', async () => {
  const help = await runInstall(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: sudo \.\/install\.sh/);
  for (const args of [['--prefix', '/tmp/x'], ['--purge'], ['--frobnicate'], ['--prefix']]) {
    const result = await runInstall(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, /Usage:/);
  }
});

test('install.sh passes shellcheck', async (t) => {
  if (!(await hasCommand('shellcheck'))) return t.skip('shellcheck is not installed (apt-get install shellcheck)');
  const result = await run('shellcheck', [INSTALL_SH]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
});
