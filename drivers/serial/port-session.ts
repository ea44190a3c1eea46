import { basename } from 'node:path';
import type { DeviceHello } from '../codec/types.js';
import type { DriverDeps } from '../driver.js';
import { isDeviceId, type Reading } from '../reading.js';
import { LineFramer } from './line-framer.js';
import type { ListedPort } from './port-discovery.js';
import { PortTransport, type PortOpener, type PortState } from './port-transport.js';

/**
 * What one serial port means (STYLE rule 4: the meaning layer): bytes go through the framer, each line through
 * the shared codec under the port's device identity, and readings to the sink in order, one ingest at a time.
 * Serial has no acknowledgement to withhold, so the durable-store promise is used for backpressure instead:
 * while too many readings wait for the store, the port is paused and the device's writes block.
 */

/** A store refusal (or a codec fault) is logged at most this often per port; every loss is still counted. */
const ERROR_LOG_INTERVAL_MS = 60_000;

export interface PortCounts {
  /** Lines handed to the codec. */
  lines: number;
  /** Lines the framer skipped: overlong, not UTF-8, control characters, cut off by a close. */
  garbled: number;
  /** Empty or whitespace-only lines, skipped silently. */
  blank: number;
  /** Samples the codec accepted, rejected, dropped as duplicates, or found missing (seq gaps). */
  readings: number;
  rejected: number;
  duplicates: number;
  gaps: number;
  hellos: number;
  /** Readings the sink stored, and readings it refused (counted as lost, never retried). */
  stored: number;
  lost: number;
  /** How often the port was paused because the store fell behind. */
  pauses: number;
}

export interface PortStatus extends PortCounts {
  path: string;
  deviceId: string;
  state: PortState;
  reconnects: number;
  lastError?: string;
}

/** A port opened or closed (for the event bus and /health; tests await these instead of sleeping). */
export interface PortEvent {
  path: string;
  deviceId: string;
  state: 'open' | 'closed';
  /** Why it closed: unplugged, hung up, I/O error. */
  reason?: string;
}

export interface PortSessionOptions {
  path: string;
  /** What the port lister knew about the port (USB serial number for the default identity). */
  listed?: ListedPort;
  /** Configured by path: kept and retried forever, never dropped by a rescan. */
  explicit: boolean;
  deps: DriverDeps;
  baudRate: number;
  open: PortOpener;
  reconnectBaseMs: number;
  reconnectCapMs: number;
  random?: () => number;
  maxLineBytes?: number;
  /** Readings waiting for the store beyond this pause the port. */
  maxPendingReadings: number;
  onPortEvent?: (event: PortEvent) => void;
}

export class PortSession {
  readonly path: string;
  readonly explicit: boolean;
  private identity: string;
  private announced?: string;
  private readonly framer: LineFramer;
  private readonly transport: PortTransport;
  private readonly counters = {
    lines: 0, readings: 0, rejected: 0, duplicates: 0, gaps: 0, hellos: 0, stored: 0, lost: 0, pauses: 0,
  };
  private pending: Reading[] = [];
  private inFlight?: Promise<void>;
  private paused = false;
  private readonly lastLoggedAt = new Map<'store' | 'codec', number>();

  constructor(private readonly options: PortSessionOptions) {
    this.path = options.path;
    this.explicit = options.explicit;
    this.identity = defaultSerialDeviceId(options.path, options.listed?.serialNumber);
    this.framer = new LineFramer({ maxLineBytes: options.maxLineBytes });
    this.transport = new PortTransport({
      path: options.path,
      baudRate: options.baudRate,
      clock: options.deps.clock,
      log: options.deps.log,
      open: options.open,
      reconnectBaseMs: options.reconnectBaseMs,
      reconnectCapMs: options.reconnectCapMs,
      random: options.random,
      onData: (chunk) => this.handleChunk(chunk),
      onOpen: () => this.tellPortEvent({ path: this.path, deviceId: this.identity, state: 'open' }),
      onClose: (reason) => this.portClosed(reason),
    });
  }

  /** The device this port speaks for: its hello name, else serial-<usb serial or port name>. */
  get deviceId(): string {
    return this.identity;
  }

  get counts(): PortCounts {
    return { ...this.counters, garbled: this.framer.counts.garbled, blank: this.framer.counts.blank };
  }

  start(): void {
    this.transport.start();
  }

  /** Closes the port, then hands every reading already decoded to the sink before resolving. */
  async stop(): Promise<void> {
    await this.transport.stop();
    this.framer.end();
    await this.drain();
    this.announceOffline();
  }

  /** Resolves once no ingest is in flight or queued. */
  async drain(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  sendLine(line: string): Promise<boolean> {
    return this.transport.write(line.endsWith('\n') ? line : `${line}\n`);
  }

  status(): PortStatus {
    const status: PortStatus = {
      path: this.path,
      deviceId: this.identity,
      state: this.transport.state,
      reconnects: this.transport.reconnects,
      ...this.counts,
    };
    if (this.transport.lastError) status.lastError = this.transport.lastError;
    return status;
  }

  /** The entry point for bytes from the port (public so the framing and decoding can be fuzzed without one). */
  handleChunk(chunk: Buffer): void {
    this.framer.push(chunk, (line) => this.handleLine(line));
  }

  private handleLine(line: string): void {
    const { codec, clock, log } = this.options.deps;
    this.counters.lines++;
    let result;
    try {
      result = codec.decodeLine(line, { transport: 'serial', receivedAt: clock.now(), deviceId: this.identity });
    } catch (err) {
      // The codec should never throw; if it does, this line is lost, not the port.
      this.counters.rejected++;
      if (this.mayLog('codec')) log.error({ path: this.path, deviceId: this.identity, err }, 'codec threw on a serial line');
      return;
    }
    this.counters.rejected += result.rejected;
    this.counters.duplicates += result.duplicates;
    this.counters.gaps += result.gaps;
    if (result.hello) this.adopt(result.hello);
    if (result.readings.length > 0) this.enqueue(result.readings);
  }

  private adopt(hello: DeviceHello): void {
    if (!isDeviceId(hello.deviceId)) return;
    this.counters.hellos++;
    if (this.announced && this.announced !== hello.deviceId) this.announceOffline();
    this.identity = hello.deviceId;
    this.announced = hello.deviceId;
    const info: { fw?: string; hz?: number; online: boolean; address: string } = { online: true, address: this.path };
    if (hello.fw !== undefined) info.fw = hello.fw;
    if (hello.hz !== undefined) info.hz = hello.hz;
    this.tellDeviceInfo(hello.deviceId, info);
  }

  private enqueue(readings: Reading[]): void {
    if (this.announced !== this.identity) {
      this.announced = this.identity;
      this.tellDeviceInfo(this.identity, { online: true, address: this.path });
    }
    this.counters.readings += readings.length;
    for (const reading of readings) this.pending.push(reading);
    if (!this.paused && this.pending.length >= this.options.maxPendingReadings) {
      this.paused = true;
      this.counters.pauses++;
      this.transport.pause();
    }
    if (!this.inFlight) this.flush();
  }

  /** One ingest per port at a time keeps the device's order; what arrives meanwhile becomes the next batch. */
  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    this.inFlight = this.ingest(batch).finally(() => {
      this.inFlight = undefined;
      if (this.pending.length > 0) this.flush();
    });
    // The queue is empty again: at most one full batch is in flight and one is filling, so memory stays bounded.
    if (this.paused) {
      this.paused = false;
      this.transport.resume();
    }
  }

  private async ingest(batch: Reading[]): Promise<void> {
    const { sink, log } = this.options.deps;
    try {
      await sink.ingest(batch, 'serial');
      this.counters.stored += batch.length;
    } catch (err) {
      this.counters.lost += batch.length;
      if (this.mayLog('store')) log.error({ path: this.path, deviceId: this.identity, err, lost: this.counters.lost }, 'serial readings not stored');
    }
  }

  private mayLog(kind: 'store' | 'codec'): boolean {
    const now = this.options.deps.clock.now();
    if (now - (this.lastLoggedAt.get(kind) ?? -Infinity) < ERROR_LOG_INTERVAL_MS) return false;
    this.lastLoggedAt.set(kind, now);
    return true;
  }

  private portClosed(reason: string): void {
    // A line cut off by the close is a partial line; the next open starts clean.
    this.framer.end();
    this.announceOffline();
    this.tellPortEvent({ path: this.path, deviceId: this.identity, state: 'closed', reason });
  }

  private tellPortEvent(event: PortEvent): void {
    try {
      this.options.onPortEvent?.(event);
    } catch (err) {
      this.options.deps.log.warn({ path: this.path, err }, 'port event listener failed');
    }
  }

  private announceOffline(): void {
    if (!this.announced) return;
    this.tellDeviceInfo(this.announced, { online: false, address: this.path });
    this.announced = undefined;
  }

  private tellDeviceInfo(deviceId: string, info: { fw?: string; hz?: number; online: boolean; address: string }): void {
    try {
      this.options.deps.onDeviceInfo?.(deviceId, 'serial', info);
    } catch (err) {
      this.options.deps.log.warn({ deviceId, err }, 'device info listener failed');
    }
  }
}

/**
 * serial-<usb serial number or port name>, squeezed into the deviceId pattern. When too long the end is kept:
 * by-id names and serial numbers differ in their tails.
 */
export function defaultSerialDeviceId(path: string, serialNumber?: string): string {
  const source = serialNumber && serialNumber.trim() ? serialNumber.trim() : basename(path) || 'port';
  const suffix = source.replace(/[^A-Za-z0-9_.:-]/g, '_');
  const room = 64 - 'serial-'.length;
  return `serial-${suffix.length > room ? suffix.slice(-room) : suffix}`;
}
