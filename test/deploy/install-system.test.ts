/**
 * install.sh's real-system path (no --prefix): the gymhub user, ownership, and the systemctl/udevadm calls in
 * order. It runs in a private mount namespace where /etc is a scratch copy and /opt and /var/lib are scratch
 * too, so useradd, chown and the writes touch nothing of this machine; systemctl, udevadm and journalctl are
 * stand-ins that record their arguments (no systemd runs here). Needs root and unshare, else it is skipped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INSTALL_SH, hasCommand, run } from './install-run.js';

const RECORDER = (name: string, exitCode: string) => `#!/bin/sh
echo "${name} $*" >> "$CALLS"
${exitCode}
`;

// `is-active` answers "inactive", so the installer does not restart a Mosquitto that is not running.
const SYSTEMCTL_EXIT = 'case "$1" in is-active) exit 3 ;; esac\nexit 0';

const INNER = `set -eu
T=$1
INSTALL=$2
cp -a /etc "$T/etc" && mount --bind "$T/etc" /etc
mount -t tmpfs gymhub-opt /opt
mkdir -p "$T/var-lib" && mount --bind "$T/var-lib" /var/lib
export PATH="$T/bin:$PATH" GYMHUB_INSTALL_SKIP_NPM=1 CALLS="$T/calls.log"
bash "$INSTALL" >"$T/install-1.out" 2>&1
bash "$INSTALL" >"$T/install-2.out" 2>&1
getent passwd gymhub >"$T/passwd"
id -nG gymhub >"$T/groups"
stat -c '%U:%G %a' /etc/gymhub/config.json >"$T/config.stat"
stat -c '%U:%G %a' /var/lib/gymhub >"$T/data.stat"
cp /etc/gymhub/config.json "$T/config.json"
echo "--- uninstall" >>"$T/calls.log"
bash "$INSTALL" --uninstall >"$T/uninstall.out" 2>&1
getent passwd gymhub >"$T/passwd-after" || true
ls /etc/gymhub /var/lib >"$T/kept" 2>&1
ls /opt >"$T/opt-after"
`;

test('on the real system: creates the gymhub user, hands it the config and data, enables and restarts the unit', async (t) => {
  if (process.getuid?.() !== 0 || !(await hasCommand('unshare')) || !(await hasCommand('useradd'))) {
    return t.skip('needs root, unshare and useradd');
  }
  const dir = await mkdtemp(join(tmpdir(), 'gymhub-install-system-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'bin'));
  await writeFile(join(dir, 'bin', 'systemctl'), RECORDER('systemctl', SYSTEMCTL_EXIT));
  await writeFile(join(dir, 'bin', 'udevadm'), RECORDER('udevadm', 'exit 0'));
  await writeFile(join(dir, 'bin', 'journalctl'), RECORDER('journalctl', 'exit 0'));
  for (const name of ['systemctl', 'udevadm', 'journalctl']) await chmod(join(dir, 'bin', name), 0o755);
  await writeFile(join(dir, 'inner.sh'), INNER);

  const result = await run('unshare', ['-m', 'bash', join(dir, 'inner.sh'), dir, INSTALL_SH]);
  if (result.code !== 0 && /unshare failed|Operation not permitted/.test(result.stderr)) {
    return t.skip(`no private mount namespace here: ${result.stderr.trim()}`);
  }
  const read = (name: string) => readFile(join(dir, name), 'utf8').catch(() => '');
  assert.equal(result.code, 0, `${result.stderr}\n${await read('install-1.out')}\n${await read('install-2.out')}`);

  const first = await read('install-1.out');
  const token = (JSON.parse(await read('config.json')) as { api: { token: string } }).api.token;
  assert.match(first, /created the system user gymhub/);
  assert.equal(first.split(token).length - 1, 1, 'the token is printed once');
  assert.equal((await read('install-2.out')).includes(token), false);
  assert.match(await read('passwd'), /^gymhub:x:\d+:\d+:[^:]*:\/var\/lib\/gymhub:\/usr\/sbin\/nologin$/m);
  assert.ok((await read('groups')).split(/\s+/).includes('dialout'), 'in the dialout group for USB serial');
  assert.equal((await read('config.stat')).trim(), 'gymhub:gymhub 600');
  assert.equal((await read('data.stat')).trim(), 'gymhub:gymhub 750');

  const [installCalls, uninstallCalls] = (await read('calls.log')).split('--- uninstall\n');
  const once = [
    'udevadm control --reload-rules',
    'udevadm trigger --subsystem-match=tty --action=add',
    'systemctl daemon-reload',
    'systemctl enable --quiet gymhub.service',
    'systemctl restart gymhub.service',
  ];
  const calls = installCalls.split('\n').filter((line) => line !== '' && !line.includes('mosquitto'));
  assert.deepEqual(calls, [...once, ...once], 'each run reloads udev and systemd, then enables and restarts the unit');
  assert.deepEqual(uninstallCalls.split('\n').filter((line) => line !== '' && !line.includes('mosquitto')), [
    'systemctl disable --now --quiet gymhub.service',
    'systemctl daemon-reload',
    'udevadm control --reload-rules',
  ]);
  assert.equal((await read('passwd-after')).trim(), '', 'the user is removed');
  assert.match(await read('kept'), /config\.json/, 'the config is kept without --purge');
  assert.doesNotMatch(await read('opt-after'), /gymhub/);
  const hostConfig = existsSync('/etc/gymhub/config.json') ? await readFile('/etc/gymhub/config.json', 'utf8') : undefined;
  assert.notEqual(hostConfig, await read('config.json'), "this machine's /etc is untouched");
});
