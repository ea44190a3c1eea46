/**
 * Run by ble-no-adapter.test.ts in a child process: starts the BLE driver with the real @stoprocent/noble
 * (or, with BLE_TEST_NO_NOBLE=1, a loader that fails as a missing package does), prints its status as one
 * JSON line, stops it, and then simply ends: nothing may keep the process alive.
 */
import { pino } from 'pino';
import { systemClock } from '../../daemon/clock.js';
import { BleDriver } from '../../drivers/ble/ble-driver.js';
import { Codec } from '../../drivers/codec/codec.js';

const log = pino({ level: 'silent' });
const codec = new Codec({ clock: systemClock, log });
const missing = process.env.BLE_TEST_NO_NOBLE === '1';
const driver = new BleDriver({
  codec,
  sink: { ingest: async () => undefined },
  log,
  clock: systemClock,
  powerOnWaitMs: 3_000,
  ...(missing ? { loadNoble: () => import('@stoprocent/no-such-package' as string) } : {}),
});

const startedAt = Date.now();
await driver.start();
const startMs = Date.now() - startedAt;
const status = driver.status();
await driver.stop();
codec.close();
process.stdout.write(`${JSON.stringify({ startMs, state: status.state, detail: status.detail, adapter: status.adapter, after: driver.status().state })}\n`);
