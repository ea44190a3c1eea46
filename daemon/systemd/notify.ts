/**
 * systemd's notify protocol for `Type=notify` (SPEC section 10): READY=1 once the hub serves, STATUS= lines,
 * WATCHDOG=1 every half WatchdogSec from the event loop, STOPPING=1 on SIGTERM. Without NOTIFY_SOCKET (a shell,
 * a test, another init) every call is a no-op. The process's environment and pid are handed in: only
 * daemon/main.ts touches `process`.
 */
import type { Logger } from 'pino';
import type { Clock, Timer } from '../clock.js';
import {
  CliNotifyTransport,
  DatagramNotifyTransport,
  loadUnixDgram,
  type NotifyTransport,
  type NotifyTransportKind,
  type UnixDgramModule,
} from './notify-transport.js';

export type NotifyTransportChoice = 'auto' | NotifyTransportKind | NotifyTransport;

export interface SystemdNotifierOptions {
  /** The process environment: NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID, PATH. */
  env: Record<string, string | undefined>;
  /** This process's pid: WATCHDOG_PID must name it, and READY=1 tells it as MAINPID. */
  pid: number;
  log: Logger;
  /** 'auto' (default): unix-dgram when it loads and the socket is a path, else systemd-notify. */
  transport?: NotifyTransportChoice;
  /** Injectable for tests: how the optional unix-dgram addon is loaded. */
  loadDatagram?: () => Promise<{ module?: UnixDgramModule; reason?: string }>;
}

/** A WATCHDOG_USEC under 2000 would round to a 0 ms interval, which would spin the event loop. */
const MIN_WATCHDOG_INTERVAL_MS = 1;

export class SystemdNotifier {
  /** NOTIFY_SOCKET as systemd set it, or undefined outside systemd. */
  readonly socket: string | undefined;
  /** Half of WATCHDOG_USEC, when systemd asks this process for watchdog pings. */
  readonly watchdogIntervalMs: number | undefined;
  private readonly log: Logger;
  private readonly pid: number;
  private transport: Promise<NotifyTransport | undefined> | undefined;
  private queue: Promise<void> = Promise.resolve();
  private watchdogTimer: Timer | undefined;
  private watchdogClock: Clock | undefined;
  private watchdogInFlight = false;
  private failing = false;

  constructor(private readonly options: SystemdNotifierOptions) {
    this.log = options.log;
    this.pid = options.pid;
    const socket = options.env.NOTIFY_SOCKET?.trim();
    this.socket = socket ? socket : undefined;
    this.watchdogIntervalMs = this.socket ? watchdogIntervalMs(options.env, options.pid) : undefined;
  }

  get enabled(): boolean {
    return this.socket !== undefined;
  }

  /** Which way the messages go ('none' outside systemd); chosen on first use. */
  async transportKind(): Promise<NotifyTransportKind | 'none'> {
    return (await this.resolveTransport())?.kind ?? 'none';
  }

  /** The hub serves: store open, drivers started, API listening. */
  ready(status?: string): Promise<void> {
    return this.send(['READY=1', `MAINPID=${this.pid}`, ...(status === undefined ? [] : [statusLine(status)])]);
  }

  /** Shown by `systemctl status gymhub`. */
  status(text: string): Promise<void> {
    return this.send([statusLine(text)]);
  }

  /** SIGTERM arrived: systemd shows the unit as deactivating while buffered readings are flushed. */
  stopping(status?: string): Promise<void> {
    return this.send(['STOPPING=1', ...(status === undefined ? [] : [statusLine(status)])]);
  }

  /** One keep-alive. Skipped while the previous one is still on its way, so a slow systemd-notify cannot pile up. */
  async watchdog(): Promise<void> {
    if (this.watchdogInFlight) {
      this.log.debug('previous watchdog ping still in flight; skipping this one');
      return;
    }
    this.watchdogInFlight = true;
    try {
      await this.send(['WATCHDOG=1']);
    } finally {
      this.watchdogInFlight = false;
    }
  }

  /**
   * Pings every half WATCHDOG_USEC from the clock's timers, that is from the event loop: a loop that stalls stops
   * pinging and systemd restarts the service. Returns the interval, or undefined when systemd asked for no watchdog
   * (no WatchdogSec, or WATCHDOG_PID names another process).
   */
  startWatchdog(clock: Clock): number | undefined {
    const intervalMs = this.watchdogIntervalMs;
    if (intervalMs === undefined) return undefined;
    this.stopWatchdog();
    this.watchdogClock = clock;
    this.watchdogTimer = clock.setInterval(() => void this.watchdog(), intervalMs);
    // The pings must never be what keeps a stopped daemon alive.
    this.watchdogTimer.unref?.();
    this.log.info({ intervalMs }, 'systemd watchdog pings started');
    return intervalMs;
  }

  /** Resolves once every message asked for so far has been handed over (or given up on). */
  flush(): Promise<void> {
    return this.queue;
  }

  /** Stops the pings and waits for messages already queued (each bounded by the transport's timeout). */
  async stop(): Promise<void> {
    this.stopWatchdog();
    await this.flush();
  }

  private stopWatchdog(): void {
    if (this.watchdogTimer !== undefined) this.watchdogClock?.clearInterval(this.watchdogTimer);
    this.watchdogTimer = undefined;
    this.watchdogClock = undefined;
  }

  /** In order, one at a time: READY must not overtake a STATUS sent before it. Never rejects. */
  private send(lines: string[]): Promise<void> {
    if (!this.socket) return Promise.resolve();
    const next = this.queue.then(() => this.deliver(lines));
    this.queue = next;
    return next;
  }

  private async deliver(lines: string[]): Promise<void> {
    let kind: NotifyTransportKind | undefined;
    try {
      const transport = await this.resolveTransport();
      if (!transport) return;
      kind = transport.kind;
      await transport.send(lines.join('\n'));
      if (this.failing) this.log.info({ transport: kind }, 'sd_notify works again');
      this.failing = false;
    } catch (err) {
      // One warning per outage: a missing socket would otherwise warn at every watchdog ping.
      if (!this.failing) this.log.warn({ err, transport: kind, socket: this.socket, message: lines[0] }, 'sd_notify failed');
      else this.log.debug({ err, message: lines[0] }, 'sd_notify failed again');
      this.failing = true;
    }
  }

  private resolveTransport(): Promise<NotifyTransport | undefined> {
    this.transport ??= this.chooseTransport();
    return this.transport;
  }

  private async chooseTransport(): Promise<NotifyTransport | undefined> {
    const socket = this.socket;
    if (!socket) return undefined;
    const choice = this.options.transport ?? 'auto';
    if (typeof choice === 'object') return choice;
    const cli = () => new CliNotifyTransport({ socket, path: this.options.env.PATH });
    if (choice === 'cli') return cli();

    let reason: string;
    if (socket.startsWith('@')) {
      reason = 'abstract socket';
    } else {
      const loaded = await (this.options.loadDatagram ?? loadUnixDgram)().catch((err: Error) => ({ module: undefined, reason: err.message }));
      if (loaded.module) {
        this.log.debug({ socket }, 'sd_notify through unix-dgram');
        return new DatagramNotifyTransport(loaded.module, socket);
      }
      reason = loaded.reason ?? 'unix-dgram not available';
    }
    if (choice === 'datagram') {
      this.log.warn({ socket, reason }, 'sd_notify through unix-dgram is not possible; notifications are off');
      return undefined;
    }
    this.log.info({ socket, reason }, 'sd_notify through the systemd-notify command (needs NotifyAccess=all)');
    return cli();
  }
}

/** sd_watchdog_enabled(): half of WATCHDOG_USEC, unless WATCHDOG_PID says the watchdog is another process's. */
export function watchdogIntervalMs(env: Record<string, string | undefined>, pid: number): number | undefined {
  const usecText = env.WATCHDOG_USEC?.trim();
  if (!usecText || !/^\d+$/.test(usecText)) return undefined;
  const usec = Number(usecText);
  if (!Number.isSafeInteger(usec) || usec <= 0) return undefined;
  const pidText = env.WATCHDOG_PID?.trim();
  if (pidText && Number(pidText) !== pid) return undefined;
  return Math.max(MIN_WATCHDOG_INTERVAL_MS, Math.floor(usec / 2 / 1000));
}

/** A STATUS= value is one line of the datagram. */
function statusLine(text: string): string {
  return `STATUS=${text.replace(/[\r\n]+/g, ' ').trim()}`;
}
