import assert from 'node:assert/strict';
import { readFile, stat, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { STATE_FILE_NAME, openState } from '../../daemon/state.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from './store-helpers.js';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

let root: Awaited<ReturnType<typeof tempDir>>;
let dirCount = 0;
const freshDir = () => join(root.path, `data-${dirCount++}`);
before(async () => {
  root = await tempDir('gymhub-state-');
});
after(async () => {
  await root.remove();
});

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe('hub state', () => {
  it('creates state.json with a fresh hubId at first start, mode 0600, and keeps the hubId after', async () => {
    const dataDir = freshDir();
    const state = await openState(dataDir);
    const file = join(dataDir, STATE_FILE_NAME);
    assert.match(state.hubId, ULID);
    assert.equal(await modeOf(file), 0o600);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { hubId: state.hubId, pairedDevices: [], settings: {} });
    assert.equal((await openState(dataDir)).hubId, state.hubId);
    assert.notEqual((await openState(freshDir())).hubId, state.hubId);
  });

  it('persists the token hash, pairings and settings, and stays 0600 through every write', async () => {
    const dataDir = freshDir();
    const clock = new FakeClock();
    const state = await openState(dataDir, { clock });
    await state.setTokenHash('ab'.repeat(32));
    const paired = await state.pair({ deviceId: 'ESP32_001', transport: 'ble', address: 'aa:bb:cc:dd:ee:ff', candidates: ['squat'] });
    assert.deepEqual(paired, { deviceId: 'ESP32_001', transport: 'ble', address: 'aa:bb:cc:dd:ee:ff', candidates: ['squat'], pairedAt: clock.now() });
    clock.advance(1000);
    await state.pair({ deviceId: 'serial-ttyUSB0', transport: 'serial' });
    clock.advance(1000);
    const repaired = await state.pair({ deviceId: 'ESP32_001', transport: 'ble', candidates: ['bicep_curl', 'shoulder_press'] });
    assert.equal(repaired.pairedAt, clock.now() - 2000, 'pairing again keeps the first pairedAt');
    await state.setSetting('autoSessions', { enabled: true, idleMs: 5000 });
    await state.setSetting('gone', 1);
    await state.setSetting('gone', undefined);
    assert.equal(await modeOf(join(dataDir, STATE_FILE_NAME)), 0o600);

    const again = await openState(dataDir);
    assert.equal(again.tokenHash(), 'ab'.repeat(32));
    assert.deepEqual(again.pairedDevices().map((d) => d.deviceId), ['ESP32_001', 'serial-ttyUSB0']);
    assert.deepEqual(again.pairedDevice('ESP32_001')?.candidates, ['bicep_curl', 'shoulder_press']);
    assert.equal(again.isPaired('serial-ttyUSB0'), true);
    assert.deepEqual(again.settings(), { autoSessions: { enabled: true, idleMs: 5000 } });
    assert.deepEqual(again.setting('autoSessions'), { enabled: true, idleMs: 5000 });

    assert.equal(await again.unpair('serial-ttyUSB0'), true);
    assert.equal(await again.unpair('serial-ttyUSB0'), false);
    assert.equal((await openState(dataDir)).isPaired('serial-ttyUSB0'), false);
  });

  it('hands out copies: changing them does not change the state', async () => {
    const state = await openState(freshDir());
    await state.pair({ deviceId: 'A', transport: 'mqtt', candidates: ['squat'] });
    state.pairedDevices()[0].candidates!.push('deadlift');
    state.pairedDevice('A')!.deviceId = 'B';
    assert.deepEqual(state.pairedDevice('A')?.candidates, ['squat']);
  });

  it('writes concurrent changes in order, none lost', async () => {
    const dataDir = freshDir();
    const state = await openState(dataDir);
    await Promise.all(Array.from({ length: 30 }, (_, i) => state.pair({ deviceId: `dev-${i}`, transport: 'mqtt' })));
    await Promise.all(Array.from({ length: 30 }, (_, i) => state.setSetting(`k${i}`, i)));
    const again = await openState(dataDir);
    assert.equal(again.pairedDevices().length, 30);
    assert.equal(Object.keys(again.settings()).length, 30);
  });

  it('tightens a state.json someone left readable, fills in missing parts, and refuses a broken one', async () => {
    const dataDir = freshDir();
    await openState(dataDir);
    const file = join(dataDir, STATE_FILE_NAME);
    await writeFile(file, JSON.stringify({ hubId: '01HZZZZZZZZZZZZZZZZZZZZZZZ', extra: 'kept' }));
    await chmod(file, 0o644);
    const state = await openState(dataDir);
    assert.equal(state.hubId, '01HZZZZZZZZZZZZZZZZZZZZZZZ');
    assert.deepEqual(state.pairedDevices(), []);
    assert.equal(await modeOf(file), 0o600);

    await writeFile(file, '{"hubId": "x", "pairedDevices": {}}');
    await assert.rejects(openState(dataDir), { code: 'state_file_invalid', message: /pairedDevices is not an array/ });
    await writeFile(file, '{not json');
    await assert.rejects(openState(dataDir), { code: 'state_file_invalid', message: /not valid JSON/ });
    assert.equal(await readFile(file, 'utf8'), '{not json', 'a broken file is left for a person to look at');
  });
});
