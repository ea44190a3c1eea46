import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { POWER_ON_WAIT_MS } from '../../drivers/ble/ble-driver.js';
import { collect, REPO_ROOT } from '../helpers/process.js';

const CHILD = fileURLToPath(new URL('./no-adapter-child.ts', import.meta.url));
/** Real time: noble is real here. Start waits at most POWER_ON_WAIT_MS; the rest is loading and exiting. */
const EXIT_DEADLINE_MS = 15_000;

async function runChild(env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const result = await collect(child, EXIT_DEADLINE_MS);
  assert.equal(result.code, 0, `child failed: ${result.stderr}`);
  // noble's HCI bindings console.log a warning when the adapter lacks LE support; the status is the last line.
  const last = result.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as Record<string, unknown>;
}

describe('BLE without Bluetooth', () => {
  it('with the real noble and no adapter: start resolves, status says unavailable, stop lets the process exit', async () => {
    const status = await runChild();
    assert.ok((status.startMs as number) <= POWER_ON_WAIT_MS + 2_000, `start took ${status.startMs} ms`);
    assert.equal(status.after, 'stopped');
    if (status.state === 'running') return; // This host has a working adapter: nothing more to check here.
    assert.equal(status.state, 'unavailable');
    assert.match(String(status.detail), /Bluetooth|noble/);
  });

  it('without the noble package: unavailable with the loader error, and the process still exits', async () => {
    const status = await runChild({ BLE_TEST_NO_NOBLE: '1' });
    assert.equal(status.state, 'unavailable');
    assert.match(String(status.detail), /could not be loaded \(@stoprocent\/noble\): .*no-such-package/);
    assert.equal(status.after, 'stopped');
  });
});
