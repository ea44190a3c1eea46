import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { simulateCommand } from '../../daemon/cli/simulate-command.js';
import { fetchAllReadings } from '../helpers/daemon.js';
import { startTestHub, TEST_TOKEN, type TestHub } from '../helpers/hub.js';
import { runGymhub } from '../helpers/process.js';
import { captureIo } from './cli-io.js';

let test: TestHub;
let apiUrl: string;
let mqttUrl: string;

before(async () => {
  test = await startTestHub({ mqtt: { url: 'off', embeddedPort: 0, embeddedHost: '127.0.0.1' } });
  apiUrl = `http://127.0.0.1:${test.hub.address.port}`;
  mqttUrl = `mqtt://127.0.0.1:${Number(test.hub.health().components.mqtt.port)}`;
});
after(async () => {
  await test.close();
});

interface DeviceResult {
  deviceId: string;
  samples: number;
  messages: number;
}

describe('gymhub simulate', () => {
  it('streams synthetic devices over MQTT into a hub, every sample stored, counters in order', async () => {
    const io = captureIo(['--mqtt', mqttUrl, '--devices', '3', '--hz', '100', '--exercise', 'bicep_curl', '--duration', '1.5', '--id-prefix', 'curl']);
    assert.equal(await simulateCommand(io), 0, io.err());
    const results = io.out().trim().split('\n').map((line) => JSON.parse(line) as DeviceResult);
    assert.deepEqual(results.map((r) => [r.deviceId, r.samples, r.messages]), [['curl-1', 150, 15], ['curl-2', 150, 15], ['curl-3', 150, 15]]);
    for (const { deviceId } of results) {
      const readings = (await fetchAllReadings(apiUrl, TEST_TOKEN, deviceId)) as Array<{ seq?: number; ts: number; accel: number[] }>;
      assert.equal(readings.length, 150, `${deviceId}: every sample acknowledged is stored`);
      assert.deepEqual(readings.map((r) => r.seq), Array.from({ length: 150 }, (_, i) => i));
      const magnitude = readings.reduce((sum, r) => sum + Math.hypot(...r.accel), 0) / readings.length;
      assert.ok(magnitude > 8 && magnitude < 12, `${deviceId}: gravity is there (mean |a| ${magnitude})`);
      const span = readings[149].ts - readings[0].ts;
      assert.ok(span >= 1400 && span <= 1600, `${deviceId}: 100 Hz on the hub's clock (149 intervals in ${span} ms)`);
    }
    const devices = await test.hub.app.inject({ method: 'GET', url: '/api/v1/devices/curl-2', headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    const device = JSON.parse(devices.body) as { transport: string; dropped: number; hz: number };
    assert.equal(device.transport, 'mqtt');
    assert.equal(device.dropped, 0);
    assert.equal(device.hz, 100, 'the retained status message says the rate');
  });

  it('stops every device when its signal is aborted', async () => {
    const abort = new AbortController();
    const io = captureIo(['--mqtt', mqttUrl, '--devices', '2', '--id-prefix', 'stopped'], {}, abort.signal);
    const running = simulateCommand(io);
    // Abort once the hub holds readings of both devices: they are streaming.
    const seen = new Set<string>();
    await new Promise<void>((resolve) => {
      test.hub.bus.on('readings', 'simulate-test', ({ readings }) => {
        for (const r of readings) if (r.deviceId.startsWith('stopped-')) seen.add(r.deviceId);
        if (seen.size === 2) resolve();
      });
    });
    test.hub.bus.removeListeners('simulate-test');
    abort.abort();
    assert.equal(await running, 0, io.err());
    const results = io.out().trim().split('\n').map((line) => JSON.parse(line) as DeviceResult);
    assert.deepEqual(results.map((r) => r.deviceId), ['stopped-1', 'stopped-2']);
    for (const r of results) {
      assert.ok(r.samples > 0);
      assert.equal((await fetchAllReadings(apiUrl, TEST_TOKEN, r.deviceId)).length, r.samples, `${r.deviceId}: what it says it sent is what the hub stored`);
    }
  });

  it('as a command (child process) over HTTP with the token, as a device would', async () => {
    const result = await runGymhub(['simulate', '--http', apiUrl, '--devices', '1', '--hz', '50', '--exercise', 'squat', '--duration', '1', '--id-prefix', 'http'], { GYMHUB_API_TOKEN: TEST_TOKEN });
    assert.equal(result.code, 0, result.stderr);
    const [device] = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as DeviceResult);
    assert.deepEqual([device.deviceId, device.samples, device.messages], ['http-1', 50, 10]);
    assert.equal((await fetchAllReadings(apiUrl, TEST_TOKEN, 'http-1')).length, 50);
  });

  it('refuses bad flags with a usage error', async () => {
    await assert.rejects(simulateCommand(captureIo(['--devices', '2'])), { message: /exactly one of --mqtt URL, --http URL/ });
    await assert.rejects(simulateCommand(captureIo(['--mqtt', mqttUrl, '--exercise', 'deadlift'])), { message: /--exercise must be one of squat, bicep_curl, rest/ });
    await assert.rejects(simulateCommand(captureIo(['--http', apiUrl])), { message: /--http needs --token or GYMHUB_API_TOKEN/ });
    await assert.rejects(simulateCommand(captureIo(['--mqtt', mqttUrl, '--devices', '0'])), { message: /--devices must be an integer/ });
  });
});
