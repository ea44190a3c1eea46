/**
 * The one payload codec every transport and HTTP ingest share (SPEC section 3): bytes in, validated
 * readings on the hub's clock out, every rejection counted per device and reason.
 *
 * Duplicates and gaps, per device, in arrival order:
 * - With a seq (formats a, b when sent; d always, its u16 unwrapped into a running uint32): a seq after the
 *   newest accepted one is new, and a jump counts the skipped samples as gaps (wrap-safe: the difference
 *   is taken modulo 2^32; a jump over MAX_COUNTED_SEQ_GAP is a counter reset, not lost samples).
 * - Late samples: a seq behind the newest that was skipped (counted as a gap) within the last
 *   SEQ_WINDOW_SAMPLES seqs and has not arrived since is late, not a duplicate: a broker redelivering
 *   unacknowledged messages interleaves them with new ones. It is kept, its gap is uncounted (a payload's
 *   gaps go negative when only late samples fill earlier gaps), and it leaves the device's clock state
 *   alone: no reboot is read from its older device time, the newest seq and device time stay, and its ts is
 *   its device time on the current offset, earlier than the device's last ts (the store orders readings by
 *   ts). Seqs before the first one of a stream are not missing: the hub never counted them. Its device
 *   time must not be after the newest sample's (that is a counter restart, below) nor more than the
 *   clock's maxPastMs before it (a rebooted device whose new seqs hit missing ones of its old boot).
 * - Any other repeated or older seq (seen before, or beyond the window) is a duplicate and dropped, unless
 *   its device time is after the newest sample's: then the device restarted its counter (a reboot of a
 *   wall-clock device), the sample is kept and a new stream starts.
 * - Without a seq: a device time not after the previous accepted sample's is a duplicate.
 * - CSV (format c) only: a sample whose six accel + gyro values equal the previous accepted sample's
 *   exactly is the firmware re-sending the same sensor read under a new millis (about 31% of the rows in
 *   the real recordings) and is counted as a duplicate and dropped.
 * - A device time that goes back by more than the clock's reboot threshold is a reboot, not a duplicate:
 *   seq and time tracking start afresh (see clock-sync.ts).
 */
import type { Logger } from 'pino';
import type { Clock } from '../../daemon/clock.js';
import { isDeviceId, type Reading, type Transport } from '../reading.js';
import { walkBleFrame } from './ble-frame.js';
import { DEFAULT_CLOCK_SYNC_OPTIONS, type ClockSyncOptions } from './clock-sync.js';
import { CSV_MAX_FIELDS, walkCsvLine } from './csv-line.js';
import { DeviceRegistry, DeviceState, type DeviceCounters } from './device-registry.js';
import { walkJsonPayload } from './json-payload.js';
import { RejectionLog, REJECTION_LOG_INTERVAL_MS } from './rejection-log.js';
import type { SampleSink } from './sample-sink.js';
import { SEQ_WINDOW_SAMPLES } from './seq-window.js';
import { checkSample, DEFAULT_CODEC_LIMITS, isUint32, SampleDraft, SI_SCALE, unitScale, type CodecLimits, type DeviceUnits, type UnitScale } from './sample.js';
import type { DecodeContext, DecodeResult, DeviceHello, RejectReason } from './types.js';

export const DEFAULT_MAX_DEVICES = 10_000;
export const MAX_COUNTED_SEQ_GAP = 1_000_000;
/** counters() key for rejections that no valid device id could be named for. */
export const UNATTRIBUTED_DEVICE_KEY = '(unattributed)';

export interface CodecOptions {
  clock: Clock;
  log: Logger;
  limits?: Partial<CodecLimits>;
  clockSync?: Partial<ClockSyncOptions>;
  /** Per-device state beyond this evicts the least recently seen device. */
  maxDevices?: number;
  rejectionLogIntervalMs?: number;
}

export interface TransportCounters {
  accepted: number;
  rejected: number;
  duplicates: number;
  gaps: number;
}

export type TransportTotals = Record<Transport, TransportCounters>;

export type { ClockSyncOptions, CodecLimits, DeviceCounters, DeviceUnits };
export { DEFAULT_CLOCK_SYNC_OPTIONS, DEFAULT_CODEC_LIMITS, SEQ_WINDOW_SAMPLES };

const TRANSPORTS: readonly Transport[] = ['mqtt', 'serial', 'ble', 'http'];

export class Codec {
  private readonly clock: Clock;
  private readonly limits: Readonly<CodecLimits>;
  private readonly maxDevices: number;
  private readonly registry: DeviceRegistry;
  private readonly units = new Map<string, UnitScale>();
  private readonly rejectionLog: RejectionLog;
  private readonly unattributed: DeviceState;
  private readonly totals = {} as TransportTotals;
  private readonly draft = new SampleDraft();
  private readonly csvFields = new Float64Array(CSV_MAX_FIELDS);

  // The payload being decoded (see run()).
  private ctx!: DecodeContext;
  private receivedAt = 0;
  private result!: DecodeResult;
  private runId = 0;
  private readonly touched: DeviceState[] = [];

  private readonly sink: SampleSink = {
    draft: this.draft,
    device: (named, index, count) => this.device(named, index, count),
    scale: (state) => this.units.get(state.deviceId) ?? SI_SCALE,
    sample: (state, index, dropResentReads) => this.sample(state, index, dropResentReads === true),
    reject: (state, reason, message, index, count) => this.reject(state, reason, message, index, count),
    hello: (hello) => this.hello(hello),
  };

  constructor(opts: CodecOptions) {
    this.clock = opts.clock;
    this.limits = Object.freeze({ ...DEFAULT_CODEC_LIMITS, ...opts.limits });
    this.maxDevices = Math.max(1, opts.maxDevices ?? DEFAULT_MAX_DEVICES);
    const clockOptions = Object.freeze({ ...DEFAULT_CLOCK_SYNC_OPTIONS, ...opts.clockSync });
    this.rejectionLog = new RejectionLog(opts.log, opts.clock, opts.rejectionLogIntervalMs ?? REJECTION_LOG_INTERVAL_MS);
    this.registry = new DeviceRegistry(this.maxDevices, clockOptions, (state) => this.rejectionLog.flush(state));
    this.unattributed = new DeviceState(UNATTRIBUTED_DEVICE_KEY, clockOptions);
    for (const t of TRANSPORTS) this.totals[t] = { accepted: 0, rejected: 0, duplicates: 0, gaps: 0 };
  }

  /** Formats a and b (one object or an array), or a hello object. */
  decodeJson(payload: Buffer | string, ctx: DecodeContext): DecodeResult {
    return this.run(ctx, () => {
      const max = this.limits.maxJsonBytes;
      const bytes = typeof payload === 'string' ? (payload.length * 3 <= max ? 0 : Buffer.byteLength(payload)) : payload.length;
      if (bytes > max) return this.reject(undefined, 'too_large', `payload of ${bytes} bytes is over the limit of ${max}`);
      let value: unknown;
      try {
        value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
      } catch {
        return this.reject(undefined, 'parse', 'payload is not valid JSON');
      }
      walkJsonPayload(value, this.sink, this.limits.maxSamplesPerPayload);
    });
  }

  /**
   * One serial line: JSON (a, b, hello) when it starts with { or [, else CSV (c). CSV samples belong to
   * ctx.deviceId; the node column must be an integer and is otherwise ignored. Empty lines are no payload.
   */
  decodeLine(line: string, ctx: DecodeContext): DecodeResult {
    const first = line.charCodeAt(0);
    if (first === 123 || first === 91) return this.decodeJson(line, ctx);
    return this.run(ctx, () => {
      let end = line.length;
      while (end > 0 && (line.charCodeAt(end - 1) === 13 || line.charCodeAt(end - 1) === 10)) end--;
      if (end === 0) return;
      const max = this.limits.maxCsvLineLength;
      if (end > max) return this.reject(undefined, 'too_large', `line of ${end} characters is over the limit of ${max}`);
      walkCsvLine(line, end, this.sink, this.csvFields);
    });
  }

  /** Format d, one GATT notification of the device ctx.deviceId. */
  decodeBle(frame: Uint8Array, ctx: DecodeContext): DecodeResult {
    return this.run(ctx, () => walkBleFrame(frame, this.sink));
  }

  /**
   * Takes back readings of a decode result that could not be stored and that their device will send again
   * (no PUBACK, no 202): without this the re-sent samples would be dropped as duplicates of what the hub
   * never kept. Lets their timestamps go back to the earliest taken-back one, uncounts them, and makes
   * them new again: with seqs, the device's newest seq goes back to just before the earliest taken-back
   * one (samples after it that were stored are then stored again when re-sent: better than a loss, and
   * re-sent samples interleaved with new ones are late samples); without, the duplicate memory is cleared.
   */
  rewind(readings: readonly Reading[], transport: Transport): void {
    const taken = new Map<DeviceState, { ts: number; count: number; floorSeq: number; seqless: boolean }>();
    for (const r of readings) {
      const state = this.registry.get(r.deviceId);
      if (!state) continue;
      let t = taken.get(state);
      if (!t) taken.set(state, (t = { ts: r.ts, count: 0, floorSeq: -1, seqless: false }));
      t.ts = Math.min(t.ts, r.ts);
      t.count++;
      if (r.seq === undefined) t.seqless = true;
      else if (t.floorSeq === -1 || ((r.seq - t.floorSeq) | 0) < 0) t.floorSeq = r.seq;
    }
    for (const [state, { ts, count, floorSeq, seqless }] of taken) {
      state.clock.rewind(ts);
      if (seqless) state.forgetStream();
      else this.rollBackSeq(state, floorSeq, transport);
      state.counters.accepted -= count;
      this.totals[transport].accepted -= count;
    }
  }

  /** Declares the units a device sends formats a, b and c in; converted from then on. */
  setUnits(deviceId: string, units: DeviceUnits): void {
    this.units.delete(deviceId);
    if (units.accel !== 'g' && units.gyro !== 'deg/s') return;
    if (this.units.size >= this.maxDevices) this.units.delete(this.units.keys().next().value!);
    this.units.set(deviceId, unitScale(units));
  }

  /** Drops everything known about a device: clock mapping, seq, counters and declared units. */
  forget(deviceId: string): void {
    const state = this.registry.get(deviceId);
    if (state) this.rejectionLog.flush(state);
    this.registry.delete(deviceId);
    this.units.delete(deviceId);
  }

  deviceCounters(deviceId: string): DeviceCounters | undefined {
    const state = deviceId === UNATTRIBUTED_DEVICE_KEY ? this.unattributed : this.registry.get(deviceId);
    return state && copyCounters(state.counters);
  }

  /** Per device (and UNATTRIBUTED_DEVICE_KEY when anything was); copies, safe to keep. */
  counters(): Record<string, DeviceCounters> {
    const out: Record<string, DeviceCounters> = {};
    for (const state of this.registry.values()) out[state.deviceId] = copyCounters(state.counters);
    if (this.unattributed.counters.rejected > 0) out[UNATTRIBUTED_DEVICE_KEY] = copyCounters(this.unattributed.counters);
    return out;
  }

  transportTotals(): TransportTotals {
    const out = {} as TransportTotals;
    for (const t of TRANSPORTS) out[t] = { ...this.totals[t] };
    return out;
  }

  /** Stops the rejection log's timer. */
  close(): void {
    this.rejectionLog.close();
  }

  /** Decodes one payload; the per-payload fields below serve every call, as decoding is synchronous. */
  private run(ctx: DecodeContext, decode: () => void): DecodeResult {
    this.ctx = ctx;
    this.receivedAt = Number.isFinite(ctx.receivedAt) ? ctx.receivedAt : this.clock.now();
    const result: DecodeResult = { readings: [], rejected: 0, duplicates: 0, gaps: 0 };
    this.result = result;
    this.runId++;
    try {
      decode();
    } finally {
      for (const state of this.touched) this.finalize(state);
      this.touched.length = 0;
    }
    return result;
  }

  /** Resolves the device a payload names (undefined: the one the transport vouches for). */
  private device(named: unknown, index: number, count: number): DeviceState | undefined {
    const vouched = this.ctx.deviceId;
    const id = named ?? vouched;
    if (id === undefined) {
      this.reject(undefined, 'device_id', 'the payload names no device', index, count);
      return undefined;
    }
    if (!isDeviceId(id)) {
      this.reject(undefined, 'device_id', `device id ${JSON.stringify(id)?.slice(0, 80)} does not match [A-Za-z0-9_.:-]{1,64}`, index, count);
      return undefined;
    }
    if (vouched !== undefined && id !== vouched) {
      this.reject(undefined, 'device_mismatch', `payload names ${id} on the connection of ${vouched}`, index, count);
      return undefined;
    }
    return this.enter(this.registry.touch(id));
  }

  private enter(state: DeviceState): DeviceState {
    if (state.runId !== this.runId) {
      state.runId = this.runId;
      this.touched.push(state);
      state.counters.lastSeenAt = this.receivedAt;
      state.counters.transport = this.ctx.transport;
    }
    return state;
  }

  /** Who a payload-level rejection is counted against: the vouched device when valid, else nobody. */
  private payloadOwner(): DeviceState {
    const vouched = this.ctx.deviceId;
    return vouched !== undefined && isDeviceId(vouched) ? this.enter(this.registry.touch(vouched)) : this.unattributed;
  }

  private reject(state: DeviceState | undefined, reason: RejectReason, message: string, index?: number, count = 1): void {
    const n = Math.max(1, count);
    const owner = state ?? this.payloadOwner();
    const c = owner.counters;
    c.rejected += n;
    c.rejectedByReason[reason] = (c.rejectedByReason[reason] ?? 0) + n;
    this.totals[this.ctx.transport].rejected += n;
    this.result.rejected += n;
    this.result.firstError ??= index === undefined ? { reason, message } : { reason, message, index };
    this.rejectionLog.note(owner, this.ctx.transport, reason, message, n);
  }

  private hello(hello: DeviceHello): void {
    const vouched = this.ctx.deviceId;
    if (!isDeviceId(hello.deviceId)) {
      this.reject(undefined, 'device_id', 'hello deviceId does not match [A-Za-z0-9_.:-]{1,64}');
    } else if (vouched !== undefined && this.ctx.transport !== 'serial' && hello.deviceId !== vouched) {
      // A serial port learns its device's name from the hello; elsewhere the name is already vouched for.
      this.reject(undefined, 'device_mismatch', `hello names ${hello.deviceId} on the connection of ${vouched}`);
    } else {
      this.result.hello = hello;
      if (hello.units) this.setUnits(hello.deviceId, hello.units);
    }
  }

  /** Validates the draft, drops duplicates (rules at the top of this file), and keeps the rest. */
  private sample(state: DeviceState, index: number, dropResentReads: boolean): void {
    const d = this.draft;
    const problem = checkSample(d);
    if (problem) {
      // The sample arrived, so it was not lost on the way: neither the samples its counter skips nor, when
      // late, the sample itself count as gaps.
      if (d.seq !== -1 && isUint32(d.seq) && !this.advanceSeq(state, d.seq)) this.takeLate(state, d.seq);
      return this.reject(state, problem.reason, problem.message, index);
    }
    const clock = state.clock;
    let t = clock.unwrap(d.time);
    // Before the reboot check: a late sample's older device time says nothing about the device's clock.
    if (d.seq !== -1 && clock.mayBeLate(t) && this.takeLate(state, d.seq)) return this.keep(state, t, state.late);
    if (clock.isReboot(t)) {
      this.finalize(state);
      clock.reboot();
      state.forgetStream();
      t = clock.unwrap(d.time);
    }
    const v = d.values;
    if (d.seq !== -1) {
      if (!this.advanceSeq(state, d.seq)) {
        if (t <= clock.lastDeviceTimeMs) return this.duplicate(state);
        state.seqWindow.clear();
        state.lastSeq = d.seq;
      }
    } else if (t <= clock.lastDeviceTimeMs) {
      return this.duplicate(state);
    } else if (dropResentReads) {
      const last = state.lastValues;
      if (state.hasLastValues && v[0] === last[0] && v[1] === last[1] && v[2] === last[2] && v[3] === last[3] && v[4] === last[4] && v[5] === last[5]) {
        return this.duplicate(state);
      }
      last.set(v.subarray(0, 6));
      state.hasLastValues = true;
    }
    clock.accept(d.time, t);
    this.keep(state, t, state.segment);
  }

  /** Keeps the draft as a reading of device time t, to be mapped onto the hub clock with segment. */
  private keep(state: DeviceState, t: number, segment: Reading[]): void {
    const d = this.draft;
    const v = d.values;
    state.counters.accepted++;
    this.totals[this.ctx.transport].accepted++;
    // ts holds the device time until finalize() maps the payload's samples onto the hub clock.
    const reading: Reading = d.seq !== -1
      ? { deviceId: state.deviceId, ts: t, seq: d.seq, accel: [v[0], v[1], v[2]], gyro: [v[3], v[4], v[5]] }
      : { deviceId: state.deviceId, ts: t, accel: [v[0], v[1], v[2]], gyro: [v[3], v[4], v[5]] };
    if (d.hasMag) reading.mag = [v[6], v[7], v[8]];
    if (!Number.isNaN(d.temp)) reading.temp = d.temp;
    this.result.readings.push(reading);
    segment.push(reading);
  }

  /** Moves the device's counter on to seq, counting what it skipped; false when seq is not after it. */
  private advanceSeq(state: DeviceState, seq: number): boolean {
    const last = state.lastSeq;
    if (last !== -1) {
      const step = (seq - last) | 0;
      if (step <= 0) return false;
      const counted = step - 1 <= MAX_COUNTED_SEQ_GAP;
      if (step > 1 && counted) this.gaps(state, step - 1);
      state.seqWindow.advance(last, step, counted);
    }
    state.lastSeq = seq;
    return true;
  }

  /** True when seq is a late sample (rules at the top of this file), which is then no longer a gap. */
  private takeLate(state: DeviceState, seq: number): boolean {
    if (state.lastSeq === -1) return false;
    const step = (seq - state.lastSeq) | 0;
    if (step > 0 || !state.seqWindow.takeMissing(seq, -step)) return false;
    this.gaps(state, -1);
    return true;
  }

  /** The device's newest seq goes back to just before floor (see rewind), unless it already is before. */
  private rollBackSeq(state: DeviceState, floor: number, transport: Transport): void {
    const last = state.lastSeq;
    if (last === -1 || ((last - floor) | 0) < 0) return;
    // Gaps counted in the rolled-back range are counted again when the device re-sends it.
    const uncounted = state.seqWindow.rollBack(floor, last);
    state.counters.gaps -= uncounted;
    this.totals[transport].gaps -= uncounted;
    state.lastSeq = (floor - 1) >>> 0;
  }

  private duplicate(state: DeviceState): void {
    state.counters.duplicates++;
    this.totals[this.ctx.transport].duplicates++;
    this.result.duplicates++;
  }

  private gaps(state: DeviceState, n: number): void {
    state.counters.gaps += n;
    this.totals[this.ctx.transport].gaps += n;
    this.result.gaps += n;
  }

  /** Maps the device's readings of this payload (or of the boot that just ended) onto the hub clock. */
  private finalize(state: DeviceState): void {
    const seg = state.segment;
    if (seg.length > 0) {
      state.clock.sync(seg[seg.length - 1].ts, this.receivedAt);
      for (const r of seg) r.ts = state.clock.toHubTs(r.ts);
      seg.length = 0;
    }
    const late = state.late;
    if (late.length > 0) {
      for (const r of late) r.ts = state.clock.toLateHubTs(r.ts, this.receivedAt);
      late.length = 0;
    }
  }
}

function copyCounters(c: DeviceCounters): DeviceCounters {
  return { ...c, rejectedByReason: { ...c.rejectedByReason } };
}
