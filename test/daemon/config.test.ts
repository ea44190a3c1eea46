import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../daemon/config.js';
import { ConfigError } from '../../daemon/errors.js';
import { runGymhub } from '../helpers/process.js';

const noFile = () => undefined;

test('with no file at all the defaults serve', () => {
  const config = loadConfig({ env: {}, readFile: noFile });
  assert.equal(config.dataDir, './data');
  assert.equal(config.http.host, '0.0.0.0');
  assert.equal(config.http.port, 8080);
  assert.equal(config.mqtt.url, 'mqtt://127.0.0.1:1883');
  assert.equal(config.serial.ports, 'auto');
  assert.equal(config.ble.enabled, true);
  assert.equal(config.storage.maxBytes, 2 * 1024 ** 3);
  assert.equal(config.sync.postgresUrl, undefined);
  assert.equal(config.log.level, 'info');
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.http), 'config is frozen');
});

test('systemd StateDirectory decides the default data directory', () => {
  assert.equal(loadConfig({ env: { STATE_DIRECTORY: '/var/lib/gymhub' }, readFile: noFile }).dataDir, '/var/lib/gymhub');
  assert.equal(loadConfig({ env: { INVOCATION_ID: 'abc' }, readFile: noFile }).dataDir, '/var/lib/gymhub');
});

test('file, then GYMHUB_* environment, then flags', () => {
  const file = JSON.stringify({ dataDir: '/file', http: { port: 9000, host: '127.0.0.1' }, mqtt: { prefix: 'gym' } });
  const config = loadConfig({
    path: '/etc/x.json',
    readFile: () => file,
    env: {
      GYMHUB_HTTP_PORT: '9100', GYMHUB_MQTT_URL: 'off', GYMHUB_SERIAL: '/dev/ttyUSB0, /dev/ttyACM0', GYMHUB_BLE: 'off',
      GYMHUB_PG_URL: 'postgres://u:p@127.0.0.1/db', GYMHUB_LOG_LEVEL: 'debug', GYMHUB_API_TOKEN: 'a-token-of-enough-length',
      GYMHUB_MQTT_EMBEDDED_PORT: '1884', GYMHUB_DATA_DIR: '/env',
    },
    overrides: { dataDir: '/flag' },
  });
  assert.equal(config.dataDir, '/flag');
  assert.equal(config.http.port, 9100);
  assert.equal(config.http.host, '127.0.0.1');
  assert.equal(config.mqtt.url, 'off');
  assert.equal(config.mqtt.prefix, 'gym');
  assert.equal(config.mqtt.embeddedPort, 1884);
  assert.deepEqual(config.serial.ports, ['/dev/ttyUSB0', '/dev/ttyACM0']);
  assert.equal(config.ble.enabled, false);
  assert.equal(config.sync.postgresUrl, 'postgres://u:p@127.0.0.1/db');
  assert.equal(config.log.level, 'debug');
  assert.equal(config.api.token, 'a-token-of-enough-length');
});

test('every problem is listed, not just the first', () => {
  const file = JSON.stringify({ http: { port: 'eighty' }, mqtt: { url: 'ftp://x' }, storage: { maxBytes: 10 }, colour: 'red' });
  try {
    loadConfig({ path: '/etc/x.json', readFile: () => file, env: { GYMHUB_BLE: 'maybe' } });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const text = err.problems.join('\n');
    for (const expected of ['http.port', 'storage.maxBytes', '"colour"', 'GYMHUB_BLE']) assert.match(text, new RegExp(expected.replace('.', '\\.')));
    assert.equal(err.problems.length, 4);
  }
});

test('a URL that is not a broker is caught once the schema is satisfied', () => {
  assert.throws(() => loadConfig({ env: { GYMHUB_MQTT_URL: 'ftp://x' }, readFile: noFile }), /mqtt\.url/);
});

test('an explicit --config that does not exist is an error; malformed JSON is an error', () => {
  assert.throws(() => loadConfig({ path: '/nope.json', env: {}, readFile: noFile }), /no such file/);
  assert.throws(() => loadConfig({ path: '/bad.json', env: {}, readFile: () => '{"http":' }), /not valid JSON/);
});

test('the daemon exits with code 2 naming all three mistakes of a bad config file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gymhub-config-'));
  const path = join(dir, 'config.json');
  await writeFile(path, JSON.stringify({ http: { port: 70000 }, serial: { baudRate: 'fast' }, mqtt: { prefx: 'gymhub' } }));
  const result = await runGymhub(['run', '--config', path], { GYMHUB_DATA_DIR: join(dir, 'data') });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /http\.port/);
  assert.match(result.stderr, /serial\.baudRate/);
  assert.match(result.stderr, /"prefx"/);
});
