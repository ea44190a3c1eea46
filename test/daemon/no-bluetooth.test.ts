import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemonProcess } from '../helpers/daemon.js';

test('the daemon starts with BLE on, on a host with no Bluetooth, and serves /health saying so', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gymhub-noble-'));
  const daemon = await startDaemonProcess([], {
    GYMHUB_DATA_DIR: dir, GYMHUB_HTTP_HOST: '127.0.0.1', GYMHUB_HTTP_PORT: '0', GYMHUB_MQTT_URL: 'off', GYMHUB_SERIAL: 'off',
    GYMHUB_BLE: 'on', GYMHUB_API_TOKEN: 'no-bluetooth-token-0123', GYMHUB_LOG_LEVEL: 'info',
  });
  t.after(async () => {
    await daemon.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  const response = await fetch(`${daemon.apiUrl}/health`);
  assert.equal(response.status, 200);
  const health = await response.json() as { components: { ble: { state: string; detail: string } } };
  assert.equal(health.components.ble.state, 'unavailable');
  assert.ok(health.components.ble.detail.length > 0);
  const stopped = await daemon.kill('SIGTERM');
  assert.equal(stopped.code, 0, 'and stops cleanly (noble released)');
});
