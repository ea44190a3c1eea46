import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { AutoSessions, MOTION_WINDOW_MS } from '../../daemon/sessions/auto-sessions.js';
import type { Session } from '../../daemon/sessions/types.js';
import { parseRecordingCsv } from '../../drivers/codec/recording.js';
import type { Reading } from '../../drivers/reading.js';
import { SHARED_DATA } from '../helpers/process.js';
import { openSessions, type SessionFixture } from './helpers.js';

const STILL_S = 30;
const BATCH_MS = 100;

function startAuto(f: SessionFixture): AutoSessions {
  const auto = new AutoSessions({ sessions: f.service, bus: f.bus, clock: f.clock, log: pino({ level: 'silent' }), stillS: STILL_S });
  auto.start();
  return auto;
}

/** A sensor at 50 Hz: lifting (swinging at 0.5 Hz) or lying on the rack (gyro bias, a little noise). */
function sample(deviceId: string, ts: number, moving: boolean): Reading {
  const phase = (2 * Math.PI * 0.5 * ts) / 1000;
  const noise = ((ts * 7919) % 13) / 1000;
  return moving
    ? { deviceId, ts, accel: [2 * Math.sin(phase), 9.81 + 1.5 * Math.cos(phase), 0.3], gyro: [0.6 * Math.cos(phase), 0.1, 0.02] }
    : { deviceId, ts, accel: [0.02 + noise, 9.81 - noise, 0.01], gyro: [0.1 + noise / 10, -0.05, 0.02] };
}

/** Streams `ms` of readings per device in 100 ms batches, the hub clock moving with them. */
async function stream(f: SessionFixture, auto: AutoSessions, ms: number, devices: Record<string, boolean>): Promise<void> {
  for (let elapsed = 0; elapsed < ms; elapsed += BATCH_MS) {
    const t = f.clock.now();
    const readings: Reading[] = [];
    for (const [deviceId, moving] of Object.entries(devices)) for (let k = 0; k < BATCH_MS; k += 20) readings.push(sample(deviceId, t + k, moving));
    f.bus.emit('readings', { transport: 'mqtt', readings });
    f.clock.advance(BATCH_MS);
    await auto.settled();
  }
}

async function sessionsOf(f: SessionFixture, deviceId: string): Promise<Session[]> {
  return (await f.service.list({ deviceId })).items.reverse();
}

describe('auto-sessions', () => {
  it('opens a session when a device starts moving and closes it after stillS without motion, at the motion end', async () => {
    const f = await openSessions();
    const auto = startAuto(f);
    try {
      await stream(f, auto, 10_000, { bar: false });
      assert.deepEqual(await sessionsOf(f, 'bar'), [], 'a bar at rest opens nothing');

      const motionStart = f.clock.now();
      await stream(f, auto, 8_000, { bar: true });
      const [open] = await sessionsOf(f, 'bar');
      assert.equal(open?.status, 'active');
      assert.ok(open.startedAt >= motionStart && open.startedAt < motionStart + 1_000, `started ${open.startedAt - motionStart} ms after the motion`);
      assert.equal(f.service.activeAuto('bar')?.id, open.id);

      await stream(f, auto, 20_000, { bar: false });
      assert.equal(f.service.active('bar')?.id, open.id, 'a pause shorter than stillS keeps it open');
      await stream(f, auto, 12_000, { bar: false });
      const [closed] = await sessionsOf(f, 'bar');
      assert.equal(closed.status, 'ended');
      const motionEnd = motionStart + 8_000;
      assert.ok(closed.endedAt! <= motionEnd && closed.endedAt! > motionEnd - 1_000, `ended ${motionEnd - closed.endedAt!} ms before the motion stopped`);
      assert.deepEqual(f.events.map((e) => e.type), ['started', 'ended']);

      await stream(f, auto, 5_000, { bar: true });
      const sessions = await sessionsOf(f, 'bar');
      assert.equal(sessions.length, 2);
      assert.ok(sessions[1].startedAt >= closed.endedAt!);
    } finally {
      await auto.stop();
      await f.close();
    }
  });

  it("never closes the app's sessions, ignores a single knock, and closes when a device falls silent", async () => {
    const f = await openSessions();
    const auto = startAuto(f);
    try {
      const app = await f.service.start({ deviceId: 'rack', label: 'squat' });
      // The knock: half a second of motion across a window boundary (windows start with each device's first reading).
      await stream(f, auto, 800, { rack: true, knock: false, gone: true });
      await stream(f, auto, 500, { rack: true, knock: true, gone: true });
      await stream(f, auto, 2_700, { rack: true, knock: false, gone: true });
      const lastMotion = f.clock.now() - 20;
      await stream(f, auto, 40_000, { rack: false, knock: false });

      assert.equal(f.service.active('rack')?.id, app.id, "the app's session stays open");
      assert.deepEqual(await sessionsOf(f, 'knock'), [], 'one moving window is not a set');
      const [gone] = await sessionsOf(f, 'gone');
      assert.equal(gone.status, 'ended', 'silence counts as stillness');
      assert.ok(Math.abs(gone.endedAt! - lastMotion) < 1_000, `${gone.endedAt! - lastMotion}`);

      const back = f.clock.now();
      await stream(f, auto, 5_000, { gone: true });
      const both = await sessionsOf(f, 'gone');
      assert.equal(both.length, 2, 'back and moving: a new session');
      assert.ok(both[1].startedAt >= back && both[1].startedAt < back + 1_000, `the new one starts when the motion resumed (${both[1].startedAt - back})`);
    } finally {
      await auto.stop();
      await f.close();
    }
  });

  it('closes a session it opened before a restart once stillS passes without motion', async () => {
    const f = await openSessions();
    let auto = startAuto(f);
    try {
      await stream(f, auto, 5_000, { bar: true });
      await auto.stop();
      await f.reopen();
      assert.ok(f.service.activeAuto('bar'), 'still an auto-session after the restart');
      auto = startAuto(f);
      await stream(f, auto, (STILL_S - 2) * 1000, {});
      assert.ok(f.service.active('bar'));
      await stream(f, auto, 3_000, {});
      assert.equal(f.service.active('bar'), undefined);
    } finally {
      await auto.stop();
      await f.close();
    }
  });

  it('makes one session of a real recorded set', async () => {
    const f = await openSessions();
    const auto = startAuto(f);
    try {
      const rows = parseRecordingCsv(await readFile(join(SHARED_DATA, 'squat', 'squat_adam_set1_reps10_1.csv'), 'utf8')).rows;
      await stream(f, auto, 5_000, { bar: false });
      const t0 = f.clock.now();
      const readings: Reading[] = rows.map((row) => ({
        deviceId: 'bar',
        ts: t0 + row.millis - rows[0].millis,
        accel: [row.values[0], row.values[1], row.values[2]],
        gyro: [row.values[3], row.values[4], row.values[5]],
      }));
      const end = readings[readings.length - 1].ts;
      for (let from = t0; from <= end; from += BATCH_MS) {
        f.bus.emit('readings', { transport: 'serial', readings: readings.filter((r) => r.ts >= from && r.ts < from + BATCH_MS) });
        f.clock.advance(BATCH_MS);
        await auto.settled();
      }
      await stream(f, auto, (STILL_S + 5) * 1000, { bar: false });
      const sessions = await sessionsOf(f, 'bar');
      assert.equal(sessions.length, 1, JSON.stringify(sessions));
      assert.ok(sessions[0].startedAt >= t0 && sessions[0].startedAt <= t0 + 3_000, `started ${sessions[0].startedAt - t0} ms in`);
      // Motion is judged per window: the end is known to within one window.
      assert.ok(sessions[0].endedAt! <= end + MOTION_WINDOW_MS && sessions[0].endedAt! >= end - 5_000, `ended ${end - sessions[0].endedAt!} ms before the end`);
    } finally {
      await auto.stop();
      await f.close();
    }
  });
});
