import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { hashToken } from '../../daemon/api/auth.js';
import { openState, STATE_FILE_NAME } from '../../daemon/state.js';
import { startDaemonProcess, type DaemonProcess } from '../helpers/daemon.js';
import { runGymhub } from '../helpers/process.js';

let root: string;
let count = 0;
const freshDir = () => join(root, `hub-${count++}`);

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'gymhub-token-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('HubState token refresh', () => {
  it('adopts a hash another process wrote, and only then', async () => {
    const dir = freshDir();
    const daemon = await openState(dir);
    await daemon.setTokenHash(hashToken('old-token-0123456789'));
    assert.equal(await daemon.refreshTokenHash(), false, 'its own write is not news');

    const cli = await openState(dir);
    await cli.setTokenHash(hashToken('new-token-0123456789'));
    assert.equal(daemon.tokenHash(), hashToken('old-token-0123456789'), 'nothing changes before a refresh');
    assert.equal(await daemon.refreshTokenHash(), true);
    assert.equal(daemon.tokenHash(), hashToken('new-token-0123456789'));
    assert.equal(await daemon.refreshTokenHash(), false);

    // The daemon's next write keeps the new hash, and its own state (a pairing) too.
    await daemon.pair({ deviceId: 'ESP32_001', transport: 'mqtt' });
    const reread = await openState(dir);
    assert.equal(reread.tokenHash(), hashToken('new-token-0123456789'));
    assert.equal(reread.isPaired('ESP32_001'), true);
  });

  it('keeps the current hash when state.json is being edited into something broken', async () => {
    const dir = freshDir();
    const daemon = await openState(dir);
    await daemon.setTokenHash(hashToken('kept-token-0123456789'));
    await writeFile(join(dir, STATE_FILE_NAME), '{"hubId": "half-writ');
    assert.equal(await daemon.refreshTokenHash(), false);
    assert.equal(daemon.tokenHash(), hashToken('kept-token-0123456789'));
  });

  it('adopts a rotation by itself while watching, and reports it', { timeout: 10_000 }, async () => {
    const dir = freshDir();
    const daemon = await openState(dir);
    await daemon.setTokenHash(hashToken('old-token-0123456789'));
    const rotated = new Promise<void>((resolve, reject) => {
      const stop = daemon.watchTokenHash({
        onChange: () => {
          stop();
          resolve();
        },
        onError: reject,
      });
    });
    await (await openState(dir)).setTokenHash(hashToken('new-token-0123456789'));
    await rotated;
    assert.equal(daemon.tokenHash(), hashToken('new-token-0123456789'));
  });
});

describe('gymhub token', () => {
  it('refuses a directory without a hub, without creating one there', async () => {
    const dir = freshDir();
    const result = await runGymhub(['token', '--data-dir', dir]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no hub state at .*state\.json: pass --data-dir/);
    assert.equal(result.stdout, '');
    await assert.rejects(readFile(join(dir, STATE_FILE_NAME)), { code: 'ENOENT' });
  });

  describe('rotating the token of a running daemon (two processes)', () => {
    let daemon: DaemonProcess;
    let dataDir: string;
    before(async () => {
      dataDir = freshDir();
      daemon = await startDaemonProcess([], {
        GYMHUB_DATA_DIR: dataDir,
        GYMHUB_HTTP_HOST: '127.0.0.1',
        GYMHUB_HTTP_PORT: '0',
        GYMHUB_MQTT_URL: 'off',
        GYMHUB_SERIAL: 'off',
        GYMHUB_BLE: 'off',
      });
    });
    after(async () => {
      await daemon?.kill();
    });

    const devicesStatus = async (token: string) =>
      (await fetch(`${daemon.apiUrl}/api/v1/devices`, { headers: { authorization: `Bearer ${token}` } })).status;

    it('prints a fresh token once; the new one works and the old one stops working', { timeout: 20_000 }, async () => {
      const oldToken = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim();
      assert.equal(await devicesStatus(oldToken), 200);

      const result = await runGymhub(['token', '--data-dir', dataDir]);
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.trim().split('\n');
      assert.equal(lines.length, 1, 'the token alone, once');
      const newToken = lines[0];
      assert.match(newToken, /^[A-Za-z0-9_-]{43}$/);
      assert.notEqual(newToken, oldToken);

      const state = JSON.parse(await readFile(join(dataDir, STATE_FILE_NAME), 'utf8')) as { apiTokenHash: string };
      assert.equal(state.apiTokenHash, hashToken(newToken), 'only the hash is stored in state.json');
      assert.doesNotMatch(JSON.stringify(state), new RegExp(newToken));
      assert.equal((await readFile(join(dataDir, 'api-token'), 'utf8')).trim(), newToken, 'the first-start token file follows');

      assert.equal(await devicesStatus(newToken), 200, 'the new token works at once');
      assert.equal(await devicesStatus(oldToken), 401, 'the old token no longer works');
      assert.equal(await devicesStatus(newToken), 200);
    });

    it('the daemon takes a rotation by itself: the old token fails before the new one was ever used', { timeout: 20_000 }, async () => {
      const before = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim();
      const rotated = new Promise<void>((resolve) => {
        createInterface({ input: daemon.child.stdout! }).on('line', (text) => {
          if (/API token was rotated/.test(text)) resolve();
        });
      });
      const result = await runGymhub(['token', '--data-dir', dataDir]);
      assert.equal(result.code, 0, result.stderr);
      await rotated;
      assert.equal(await devicesStatus(before), 401);
      assert.equal(await devicesStatus(result.stdout.trim()), 200);
    });
  });
});
