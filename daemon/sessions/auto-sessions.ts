import type { Logger } from 'pino';
import type { Reading } from '../../drivers/reading.js';
import type { Clock, Timer } from '../clock.js';
import type { EventBus, HubEvents } from '../event-bus.js';
import type { SessionService } from './session-service.js';

/** Motion is judged on tumbling windows of this length, per device (hub timestamps). */
export const MOTION_WINDOW_MS = 1000;
/**
 * A window moves when the summed per-axis standard deviation of the accelerometer or of the gyroscope reaches
 * these (as models/motion.ts measures it). On the real barbell recordings 95% of 1 s windows inside a set
 * are above them; a bar at rest is far below (the models' rest gate is 0.1 m/s^2 and 0.05 rad/s).
 */
export const MOTION_ACC_STD_MIN = 0.3;
export const MOTION_GYRO_STD_MIN = 0.15;
/**
 * Consecutive moving windows before a session opens: a knock against the rack (under a second, so touching at
 * most two windows) does not start a set. The session still starts where the motion did.
 */
export const MOVING_WINDOWS_TO_START = 3;
/** A window with fewer readings says nothing. */
const MIN_WINDOW_READINGS = 5;
const CHECK_INTERVAL_MS = 1000;
/** A window this old on the hub clock is judged even though no later reading closed it. */
const STALE_WINDOW_MS = 2 * MOTION_WINDOW_MS;
export const AUTO_STILL_DEFAULT_S = 30;
const OWNER = 'auto-sessions';

export interface AutoSessionsOptions {
  sessions: Pick<SessionService, 'start' | 'update' | 'active' | 'activeAuto' | 'autoActiveDevices'>;
  bus: Pick<EventBus, 'on' | 'removeListeners'>;
  clock: Clock;
  log: Logger;
  /** An auto-opened session closes after this long without motion (config sessions.autoStillS). */
  stillS: number;
}

interface DeviceMotion {
  windowStart: number;
  lastTs: number;
  n: number;
  /** Per channel (ax, ay, az, gx, gy, gz): sums at 0..5, sums of squares at 6..11. */
  sums: Float64Array;
  streak: number;
  streakStart: number;
  lastMotionTs: number;
  lastEndedAt: number;
}

/**
 * Optional (config sessions.auto): opens a session when a device without one starts moving, and closes the
 * sessions it opened after `stillS` without motion, ending them when the motion stopped. Sessions the app
 * started are never closed by it. Sessions it opened survive a restart and close after `stillS` if no motion
 * resumes.
 */
export class AutoSessions {
  private readonly devices = new Map<string, DeviceMotion>();
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly stillMs: number;
  private timer: Timer | undefined;

  constructor(private readonly o: AutoSessionsOptions) {
    this.stillMs = o.stillS * 1000;
  }

  start(): void {
    const now = this.o.clock.now();
    for (const deviceId of this.o.sessions.autoActiveDevices()) this.motion(deviceId).lastMotionTs = now;
    this.o.bus.on('readings', OWNER, (event) => this.onReadings(event.readings));
    this.o.bus.on('session', OWNER, (event) => this.onSession(event));
    this.timer = this.o.clock.setInterval(() => this.closeStill(), CHECK_INTERVAL_MS);
    this.timer.unref?.();
  }

  /** Stops watching and waits for the opens and closes under way (call before the session service closes). */
  async stop(): Promise<void> {
    this.o.bus.removeListeners(OWNER);
    this.o.clock.clearInterval(this.timer);
    this.timer = undefined;
    await this.settled();
  }

  /** Resolves once the session changes started so far are done. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inFlight.values()]);
  }

  private onReadings(readings: readonly Reading[]): void {
    let deviceId = '';
    let state: DeviceMotion | undefined;
    for (const r of readings) {
      if (r.deviceId !== deviceId || !state) {
        deviceId = r.deviceId;
        state = this.motion(deviceId);
      }
      if (r.ts - state.windowStart >= MOTION_WINDOW_MS) this.nextWindow(deviceId, state, r.ts);
      const s = state.sums;
      for (let k = 0; k < 3; k++) {
        s[k] += r.accel[k];
        s[k + 3] += r.gyro[k];
        s[k + 6] += r.accel[k] * r.accel[k];
        s[k + 9] += r.gyro[k] * r.gyro[k];
      }
      state.n += 1;
      if (r.ts > state.lastTs) state.lastTs = r.ts;
    }
  }

  /** Judges the window that is complete and starts the next one at `windowStart` (-Infinity: at the next reading). */
  private nextWindow(deviceId: string, state: DeviceMotion, windowStart: number): void {
    this.windowDone(deviceId, state);
    state.windowStart = windowStart;
    state.n = 0;
    state.sums.fill(0);
  }

  private windowDone(deviceId: string, state: DeviceMotion): void {
    if (state.n < MIN_WINDOW_READINGS) return;
    const moving = vectorStd(state.sums, 0, state.n) >= MOTION_ACC_STD_MIN || vectorStd(state.sums, 3, state.n) >= MOTION_GYRO_STD_MIN;
    if (!moving) {
      state.streak = 0;
      return;
    }
    if (state.streak === 0) state.streakStart = state.windowStart;
    state.streak += 1;
    state.lastMotionTs = Math.max(state.lastMotionTs, state.lastTs);
    if (state.streak >= MOVING_WINDOWS_TO_START && !this.inFlight.has(deviceId) && !this.o.sessions.active(deviceId)) {
      // Never before the end of the device's previous session: a reading belongs to one session at most.
      const startedAt = Math.max(state.streakStart, state.lastEndedAt);
      this.track(deviceId, this.o.sessions.start({ deviceId }, { origin: 'auto', startedAt }));
    }
  }

  private closeStill(): void {
    const now = this.o.clock.now();
    // A device that fell silent never completes its last window: judge it once it is clearly over.
    for (const [deviceId, state] of this.devices) {
      if (state.n > 0 && now - state.windowStart >= STALE_WINDOW_MS) {
        this.nextWindow(deviceId, state, -Infinity);
        state.streak = 0; // silence breaks a run of moving windows
      }
    }
    for (const deviceId of this.o.sessions.autoActiveDevices()) {
      const state = this.motion(deviceId);
      if (this.inFlight.has(deviceId) || now - state.lastMotionTs < this.stillMs) continue;
      const session = this.o.sessions.activeAuto(deviceId);
      if (!session) continue;
      const endedAt = Number.isFinite(state.lastMotionTs) ? state.lastMotionTs : now;
      this.track(deviceId, this.o.sessions.update(session.id, { end: true }, { endedAt }));
    }
  }

  private onSession(event: HubEvents['session']): void {
    if (event.type !== 'ended' || event.session.endedAt === undefined) return;
    const state = this.motion(event.session.deviceId);
    state.lastEndedAt = Math.max(state.lastEndedAt, event.session.endedAt);
  }

  private track(deviceId: string, change: Promise<unknown>): void {
    const done = change
      .catch((err: unknown) => {
        // The app started a session meanwhile (409): that one stands, and is not the hub's to close.
        if ((err as { statusCode?: number }).statusCode === 409) this.o.log.debug({ deviceId }, 'auto-session not opened: the device has a session');
        else this.o.log.warn({ err, deviceId }, 'auto-session change failed');
      })
      .finally(() => this.inFlight.delete(deviceId));
    this.inFlight.set(deviceId, done);
  }

  private motion(deviceId: string): DeviceMotion {
    let state = this.devices.get(deviceId);
    if (!state) {
      state = {
        windowStart: -Infinity,
        lastTs: -Infinity,
        n: 0,
        sums: new Float64Array(12),
        streak: 0,
        streakStart: -Infinity,
        lastMotionTs: -Infinity,
        lastEndedAt: -Infinity,
      };
      this.devices.set(deviceId, state);
    }
    return state;
  }
}

/** sqrt of the summed variances of three channels, from their sums and sums of squares. */
function vectorStd(sums: Float64Array, first: number, n: number): number {
  let total = 0;
  for (let c = first; c < first + 3; c++) {
    const mean = sums[c] / n;
    total += Math.max(0, sums[c + 6] / n - mean * mean);
  }
  return Math.sqrt(total);
}
