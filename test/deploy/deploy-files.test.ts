import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../daemon/config.js';
import { ConfigSchema } from '../../daemon/config-schema.js';
import { DEPLOY_DIR, hasCommand, run } from './install-run.js';

const UNIT = join(DEPLOY_DIR, 'gymhub.service');
const RULES = join(DEPLOY_DIR, '99-gymhub-esp32.rules');

/** The unit's settings as key -> every value given (systemd allows repeats). */
function unitSettings(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (match) settings.set(match[1], [...(settings.get(match[1]) ?? []), match[2]]);
  }
  return settings;
}

test('gymhub.service: notify, watchdog, dedicated user, hardening that leaves serial and BLE working', async () => {
  const settings = unitSettings(await readFile(UNIT, 'utf8'));
  const one = (key: string) => {
    const values = settings.get(key);
    assert.equal(values?.length, 1, `${key} is set once`);
    return values![0];
  };
  assert.equal(one('Type'), 'notify');
  assert.equal(one('NotifyAccess'), 'all', 'the systemd-notify fallback sends from a child process');
  assert.equal(one('WatchdogSec'), '30');
  assert.equal(one('TimeoutStopSec'), '15');
  assert.equal(one('Restart'), 'on-failure');
  assert.equal(one('RestartPreventExitStatus'), '2', 'a bad config does not restart forever');
  assert.equal(one('ExecStart'), '/usr/bin/node /opt/gymhub/bin/gymhub.js run --config /etc/gymhub/config.json');
  assert.equal(one('User'), 'gymhub');
  assert.equal(one('SupplementaryGroups'), 'dialout');
  assert.equal(one('StateDirectory'), 'gymhub');
  assert.equal(one('ConfigurationDirectory'), 'gymhub');
  for (const key of ['NoNewPrivileges', 'ProtectHome', 'PrivateTmp']) assert.equal(one(key), 'yes', key);
  assert.equal(one('ProtectSystem'), 'strict');
  assert.deepEqual(one('AmbientCapabilities').split(' ').sort(), ['CAP_NET_ADMIN', 'CAP_NET_RAW']);
  assert.deepEqual(one('CapabilityBoundingSet').split(' ').sort(), ['CAP_NET_ADMIN', 'CAP_NET_RAW']);
  assert.deepEqual(one('RestrictAddressFamilies').split(' ').sort(), ['AF_BLUETOOTH', 'AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_UNIX']);
  // Each of these would cut the service off from /dev/ttyUSB* and /dev/ttyACM*, or (the last two) from V8's JIT and BLE.
  for (const key of ['PrivateDevices', 'DevicePolicy', 'DeviceAllow', 'ProtectClock', 'MemoryDenyWriteExecute', 'PrivateUsers']) {
    assert.ok(!settings.has(key), `${key} is not set`);
  }
});

test('systemd-analyze verify accepts gymhub.service', async (t) => {
  if (!(await hasCommand('systemd-analyze'))) return t.skip('systemd-analyze is not installed');
  // verify checks that ExecStart's program exists: point it at this node, as install.sh does.
  const dir = await mkdtemp(join(tmpdir(), 'gymhub-unit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const copy = join(dir, 'gymhub.service');
  await writeFile(copy, (await readFile(UNIT, 'utf8')).replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `));
  const result = await run('systemd-analyze', ['verify', copy]);
  const complaints = `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.includes('gymhub.service'));
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.deepEqual(complaints, []);
});

test('udev rules: every USB serial chip of SPEC section 4 gets dialout 0660, a stable link and a systemd tag', async (t) => {
  const text = await readFile(RULES, 'utf8');
  const rules = text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
  for (const [vendor, product] of [['10c4', 'ea60'], ['1a86', '7523'], ['1a86', '55d4'], ['303a', '1001'], ['0403', '6001']]) {
    assert.ok(
      rules.some((rule) => rule.includes(`ATTRS{idVendor}=="${vendor}"`) && rule.includes(`ATTRS{idProduct}=="${product}"`) && rule.includes('ENV{GYMHUB_ESP32}="1"')),
      `${vendor}:${product} is matched`,
    );
  }
  const action = rules.find((rule) => rule.startsWith('GROUP='));
  assert.ok(action?.includes('GROUP="dialout"') && action.includes('MODE="0660"') && action.includes('TAG+="systemd"'), String(action));
  assert.ok(rules.some((rule) => rule.includes('SYMLINK+="gymhub-esp32-')));
  assert.ok(rules.filter((rule) => rule.includes('GOTO="gymhub_esp32_end"')).length > 0);
  assert.equal(rules.filter((rule) => rule.includes('LABEL="gymhub_esp32_end"')).length, 1, 'the GOTOs have their one LABEL');

  // udevadm reads only its fixed rule directories: parse the file under a tmpfs /run in a private mount namespace,
  // so the machine's own /run stays untouched. That needs root, unshare and udevadm; elsewhere the static checks
  // above stand.
  if (!(await hasCommand('udevadm')) || !(await hasCommand('unshare')) || process.getuid?.() !== 0) {
    return t.skip('udevadm, unshare or root missing: rules checked statically only');
  }
  const script = 'mount -t tmpfs gymhub-test /run && mkdir -p /run/udev/rules.d && cp "$1" /run/udev/rules.d/ && udevadm test --action=add /sys/class/tty/tty0 2>&1';
  const parsed = await run('unshare', ['-m', 'sh', '-c', script, 'sh', RULES]);
  if (!parsed.stdout.includes('Reading rules file: /run/udev/rules.d/99-gymhub-esp32.rules')) {
    return t.skip(`could not run udevadm test in a private mount namespace: ${parsed.stdout.slice(0, 300)}`);
  }
  const errors = parsed.stdout.split('\n').filter((line) => line.includes('99-gymhub-esp32.rules:'));
  assert.deepEqual(errors, [], 'udevadm reports no problem in the rules');
});

test('config.example.json passes the daemon schema and shows every section', async () => {
  const path = join(DEPLOY_DIR, 'config.example.json');
  const config = loadConfig({ path, env: {} });
  assert.equal(config.dataDir, '/var/lib/gymhub');
  const example = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  // The API token is left out on purpose: a token copied from an example would be known to everyone.
  const sections = Object.keys(ConfigSchema.properties).filter((key) => key !== 'api');
  assert.deepEqual(sections.filter((key) => !(key in example)), []);
  assert.equal((example.api as { token?: string } | undefined)?.token, undefined);
});
