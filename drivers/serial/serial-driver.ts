import type { Timer } from '../../daemon/clock.js';
import type { DeviceCommand, Driver, DriverDeps, DriverState, DriverStatus } from '../driver.js';
import { DEFAULT_MAX_LINE_BYTES } from './line-framer.js';
import { createPortLister, isEsp32Port, type ListedPort, type PortLister } from './port-discovery.js';
import { PortSession, type PortEvent, type PortStatus } from './port-session.js';
import { openSerialPort, type PortOpener } from './port-transport.js';

/**
 * The USB serial driver (SPEC section 4): finds ESP32 boards by USB id or takes configured paths, keeps one
 * PortSession per port, picks up newly plugged boards by rescanning, and reports it all as status.
 */

/** `auto`: every ESP32 USB bridge found; `off`; or exactly these paths (retried until they appear). */
export type SerialMode = 'auto' | 'off' | string[];

export const DEFAULT_BAUD_RATE = 115200;
export const RESCAN_INTERVAL_MS = 2_000;
export const RECONNECT_BASE_MS = 250;
export const RECONNECT_CAP_MS = 10_000;
/** About 50 s of one 100 Hz device: enough to ride out a slow store batch, small enough for a Pi Zero. */
export const MAX_PENDING_READINGS = 5_000;

export interface SerialDriverOptions extends DriverDeps {
  mode: SerialMode;
  baudRate?: number;
  /** Lists the host's ports (auto mode). Default: serialport's list, falling back to sysfs and by-id. */
  listPorts?: PortLister;
  /** Opens one port. Default: serialport, imported lazily. */
  openPort?: PortOpener;
  rescanIntervalMs?: number;
  reconnectBaseMs?: number;
  reconnectCapMs?: number;
  maxLineBytes?: number;
  maxPendingReadings?: number;
  /** Jitter source for the backoff (tests make it deterministic). */
  random?: () => number;
  /** Each port opening or closing (unplug, hang-up), for the event bus. */
  onPortEvent?: (event: PortEvent) => void;
}

export class SerialDriver implements Driver {
  readonly transport = 'serial' as const;
  private readonly sessions = new Map<string, PortSession>();
  private readonly listPorts: PortLister;
  private readonly openPort: PortOpener;
  private started = false;
  private unavailable?: string;
  private scanTimer?: Timer;
  private scanning?: Promise<void>;
  private rescanQueued?: Promise<void>;
  private lastScanError?: string;
  /** Totals of ports that were unplugged and dropped, so driver totals never go backwards. */
  private readonly retired = { lines: 0, garbled: 0, readings: 0, lost: 0 };

  constructor(private readonly options: SerialDriverOptions) {
    this.listPorts = options.listPorts ?? createPortLister({ log: options.log });
    this.openPort = options.openPort ?? openSerialPort;
  }

  async start(): Promise<void> {
    if (this.started || this.options.mode === 'off') return;
    this.started = true;
    if (!this.options.openPort) {
      try {
        await import('serialport');
      } catch (err) {
        // A host without the native binding runs on without serial, and says so in /health.
        this.unavailable = `serialport cannot be loaded: ${(err as Error).message}`;
        this.options.log.warn({ err: (err as Error).message }, 'serial driver unavailable');
        return;
      }
    }
    if (Array.isArray(this.options.mode)) {
      for (const path of this.options.mode) this.addPort(path, undefined, true);
      return;
    }
    await this.rescan();
    this.scanTimer = this.options.clock.setInterval(() => void this.rescan(), this.options.rescanIntervalMs ?? RESCAN_INTERVAL_MS);
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.options.clock.clearInterval(this.scanTimer);
    this.scanTimer = undefined;
    await this.rescanQueued;
    await this.scanning;
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    // Each port on its own: one that fails to close must not keep the others' readings from the store.
    await Promise.allSettled(sessions.map((s) => s.stop()));
    for (const session of sessions) this.retire(session);
  }

  /**
   * Lists the ports now: opens newly plugged ESP32 boards and drops auto-found ports that are gone. A call
   * during a scan is served by one more scan after it (the list may have changed since that one began).
   * Resolves when the scan is done (ports are opening, not necessarily open).
   */
  rescan(): Promise<void> {
    if (!this.started || Array.isArray(this.options.mode)) return Promise.resolve();
    if (this.scanning) {
      this.rescanQueued ??= this.scanning.then(() => {
        this.rescanQueued = undefined;
        return this.rescan();
      });
      return this.rescanQueued;
    }
    this.scanning = this.scanOnce().finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  async sendCommand(deviceId: string, command: DeviceCommand): Promise<boolean> {
    for (const session of this.sessions.values()) {
      if (session.deviceId === deviceId && session.status().state === 'open') {
        return session.sendLine(JSON.stringify(command));
      }
    }
    return false;
  }

  /** Resolves once every port's decoded readings have been handed to the sink and settled. */
  async drain(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.drain()));
  }

  status(): DriverStatus {
    const ports: PortStatus[] = [...this.sessions.values()].map((s) => s.status());
    const totals = { ...this.retired };
    for (const port of ports) {
      totals.lines += port.lines;
      totals.garbled += port.garbled;
      totals.readings += port.readings;
      totals.lost += port.lost;
    }
    const { state, detail } = this.summarise(ports);
    const status: DriverStatus = { state, ports, ...totals };
    if (detail) status.detail = detail;
    return status;
  }

  private summarise(ports: PortStatus[]): { state: DriverState; detail?: string } {
    if (this.options.mode === 'off') return { state: 'off', detail: 'serial is switched off' };
    if (this.unavailable) return { state: 'unavailable', detail: this.unavailable };
    if (!this.started) return { state: 'stopped' };
    const open = ports.filter((p) => p.state === 'open').length;
    if (ports.length === 0) {
      return { state: 'running', detail: this.lastScanError ?? 'no ESP32 serial ports found' };
    }
    const detail = `${open} of ${ports.length} serial ports open`;
    if (open === 0 && Array.isArray(this.options.mode)) return { state: 'connecting', detail };
    return { state: 'running', detail };
  }

  private async scanOnce(): Promise<void> {
    let listed: ListedPort[];
    try {
      listed = await this.listPorts();
      this.lastScanError = undefined;
    } catch (err) {
      // A custom lister may throw; the default never does. Either way the ports we have keep running.
      this.lastScanError = `port listing failed: ${(err as Error).message}`;
      return;
    }
    if (!this.started) return;
    const wanted = new Map(listed.filter(isEsp32Port).map((p) => [p.path, p]));
    for (const [path, port] of wanted) {
      if (!this.sessions.has(path)) this.addPort(path, port, false);
    }
    const gone = [...this.sessions.values()].filter((s) => !s.explicit && !wanted.has(s.path));
    for (const session of gone) {
      this.sessions.delete(session.path);
      this.options.log.info({ path: session.path, deviceId: session.deviceId }, 'serial port unplugged');
    }
    await Promise.allSettled(gone.map((s) => s.stop()));
    for (const session of gone) this.retire(session);
  }

  private addPort(path: string, listed: ListedPort | undefined, explicit: boolean): void {
    const o = this.options;
    const session = new PortSession({
      path,
      listed,
      explicit,
      deps: { codec: o.codec, sink: o.sink, log: o.log, clock: o.clock, onDeviceInfo: o.onDeviceInfo },
      baudRate: o.baudRate ?? DEFAULT_BAUD_RATE,
      open: this.openPort,
      reconnectBaseMs: o.reconnectBaseMs ?? RECONNECT_BASE_MS,
      reconnectCapMs: o.reconnectCapMs ?? RECONNECT_CAP_MS,
      random: o.random,
      maxLineBytes: o.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      maxPendingReadings: o.maxPendingReadings ?? MAX_PENDING_READINGS,
      onPortEvent: o.onPortEvent,
    });
    this.sessions.set(path, session);
    this.options.log.info({ path, deviceId: session.deviceId, explicit }, 'serial port added');
    session.start();
  }

  private retire(session: PortSession): void {
    const counts = session.counts;
    this.retired.lines += counts.lines;
    this.retired.garbled += counts.garbled;
    this.retired.readings += counts.readings;
    this.retired.lost += counts.lost;
  }
}

export type { ListedPort, PortEvent, PortLister, PortOpener, PortStatus };
