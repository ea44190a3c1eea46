/**
 * Maps one device's clock onto the hub's: hub ts = device time + offset (SPEC section 3).
 *
 * Devices send either millis since boot (serial CSV, BLE frames, cheap firmware) or a wall clock that may
 * or may not be NTP-synced. The hub cannot tell which from one number, so the offset is estimated on
 * arrival and then refined:
 *
 * - First contact: a device time within trustedWallClockSkewMs of the arrival time is taken to be a synced
 *   wall clock (offset 0); anything else gets offset = arrival - device time of the payload's last sample,
 *   i.e. "the last sample was taken as it arrived".
 * - Never in the future: when a payload's last sample would map after its arrival, the offset is lowered
 *   so that it maps to the arrival time. This pulls an offset that was estimated from a delayed payload
 *   down to the smallest transit delay seen, and follows a device clock that runs fast.
 * - Slow clocks: the smallest (arrival - device time) over slowClockWindowMs is the offset plus the
 *   smallest transit delay of that window. If it exceeds the offset by more than slowClockToleranceMs the
 *   device clock is falling behind, and the offset is raised to it.
 * - Re-estimate: a device time that goes back by more than rebootBackstepMs is a reboot, and a sample that
 *   maps more than maxPastMs into the hub's past means the device clock jumped; both start afresh.
 * - u32 millis wrap (every 49.7 days): a device time that drops by almost 2^32 ms while the hub saw only a
 *   short time pass is a wrap, and the clock is unwrapped instead of being treated as a reboot.
 * - Finally each ts is clamped so that a device's timestamps never run backwards, whatever the offset did.
 *   Late samples (see codec.ts) are the exception: mapped with the current offset, they keep their true,
 *   earlier time, and leave this state untouched.
 *
 * Timestamps are rounded to whole milliseconds.
 */
export interface ClockSyncOptions {
  trustedWallClockSkewMs: number;
  rebootBackstepMs: number;
  maxPastMs: number;
  slowClockWindowMs: number;
  slowClockToleranceMs: number;
  /** The largest forward step across a u32 millis wrap that is taken as a wrap rather than a reboot. */
  wrapMaxStepMs: number;
}

export const DEFAULT_CLOCK_SYNC_OPTIONS: Readonly<ClockSyncOptions> = Object.freeze({
  trustedWallClockSkewMs: 2_000,
  rebootBackstepMs: 5_000,
  maxPastMs: 10 * 60_000,
  slowClockWindowMs: 30_000,
  slowClockToleranceMs: 100,
  wrapMaxStepMs: 10 * 60_000,
});

const U32_RANGE_MS = 2 ** 32;

export class DeviceClock {
  private offsetMs: number | undefined;
  /** What has been added to the raw device time to unwrap u32 millis. */
  private wrapBaseMs = 0;
  /** Unwrapped device time of the last accepted sample; NaN before the first. */
  private lastDeviceMs = Number.NaN;
  private lastTs = Number.NEGATIVE_INFINITY;
  private windowStartedAt = 0;
  private windowMinDelayMs = Number.POSITIVE_INFINITY;
  /** Arrival time of the payload last passed to sync: no ts of it maps later. */
  private syncedAt = Number.POSITIVE_INFINITY;

  constructor(private readonly opts: Readonly<ClockSyncOptions>) {}

  /** The device time of the last accepted sample (unwrapped), NaN before the first. */
  get lastDeviceTimeMs(): number {
    return this.lastDeviceMs;
  }

  /** The current offset (hub ts - device time), undefined until the first payload is mapped. */
  get currentOffsetMs(): number | undefined {
    return this.offsetMs;
  }

  /** Turns a raw device time into a monotonic one across u32 wraps. Does not change state. */
  unwrap(rawMs: number): number {
    const t = rawMs + this.wrapBaseMs;
    if (Number.isNaN(this.lastDeviceMs) || rawMs > U32_RANGE_MS + this.opts.wrapMaxStepMs) return t;
    const delta = t - this.lastDeviceMs;
    const wrapSpan = U32_RANGE_MS - this.opts.wrapMaxStepMs;
    if (delta < -wrapSpan) return t + U32_RANGE_MS;
    // A late sample from just before a wrap that was already unwrapped.
    if (delta > wrapSpan && this.wrapBaseMs > 0) return t - U32_RANGE_MS;
    return t;
  }

  /** True when this (unwrapped) device time means the device restarted its clock. */
  isReboot(deviceMs: number): boolean {
    return deviceMs < this.lastDeviceMs - this.opts.rebootBackstepMs;
  }

  /**
   * False when a sample of this device time cannot be a late one (see codec.ts): it is after the newest
   * accepted sample, or so far before it that the device must have rebooted. True while that is unknown.
   */
  mayBeLate(deviceMs: number): boolean {
    return !(deviceMs > this.lastDeviceMs) && !(deviceMs < this.lastDeviceMs - this.opts.maxPastMs);
  }

  /** Forgets everything about the old boot except the last ts, so that time still never runs backwards. */
  reboot(): void {
    this.offsetMs = undefined;
    this.wrapBaseMs = 0;
    this.lastDeviceMs = Number.NaN;
    this.windowMinDelayMs = Number.POSITIVE_INFINITY;
  }

  /**
   * Samples mapped to floorTs and later were taken back (not stored) and will be sent again: forget the
   * device time seen, so they are not duplicates, and let ts go back to floorTs, so they map as before.
   */
  rewind(floorTs: number): void {
    this.lastDeviceMs = Number.NaN;
    if (floorTs < this.lastTs) this.lastTs = floorTs;
  }

  /** Records an accepted sample's device time (raw as sent, and unwrapped). */
  accept(rawMs: number, deviceMs: number): void {
    this.lastDeviceMs = deviceMs;
    this.wrapBaseMs = deviceMs - rawMs;
  }

  /**
   * Updates the offset from one payload: its last accepted sample's device time and when it arrived.
   * Call once per payload (per device), before mapping that payload's samples with toHubTs.
   */
  sync(lastDeviceMs: number, receivedAt: number): void {
    this.syncedAt = receivedAt;
    const delayMs = receivedAt - lastDeviceMs;
    if (this.offsetMs === undefined || delayMs - this.offsetMs > this.opts.maxPastMs) {
      this.estimate(delayMs, receivedAt);
    } else {
      if (delayMs < this.windowMinDelayMs) this.windowMinDelayMs = delayMs;
      if (receivedAt - this.windowStartedAt >= this.opts.slowClockWindowMs) {
        if (this.windowMinDelayMs - this.offsetMs > this.opts.slowClockToleranceMs) this.offsetMs = this.windowMinDelayMs;
        this.windowStartedAt = receivedAt;
        this.windowMinDelayMs = delayMs;
      }
    }
    if (lastDeviceMs + this.offsetMs! > receivedAt) this.offsetMs = delayMs;
  }

  /** Maps a device time of the payload last passed to sync; never earlier than the previous result. */
  toHubTs(deviceMs: number): number {
    // min(): a sample of the payload whose device time is after its last one (kept for its seq) still
    // must not land in the future.
    const ts = Math.min(Math.round(deviceMs + this.offsetMs!), this.syncedAt);
    if (ts > this.lastTs) {
      this.lastTs = ts;
      return ts;
    }
    return this.lastTs;
  }

  /**
   * Maps the device time of a late sample (taken before the newest one, arriving after it) with the current
   * offset, and changes nothing: it may map earlier than the last ts, which is its true time. Before any
   * offset exists it is taken as it arrived.
   */
  toLateHubTs(deviceMs: number, receivedAt: number): number {
    if (this.offsetMs === undefined) return receivedAt;
    return Math.min(Math.round(deviceMs + this.offsetMs), receivedAt);
  }

  private estimate(delayMs: number, receivedAt: number): void {
    this.offsetMs = Math.abs(delayMs) <= this.opts.trustedWallClockSkewMs ? 0 : delayMs;
    this.windowStartedAt = receivedAt;
    this.windowMinDelayMs = delayMs;
  }
}
