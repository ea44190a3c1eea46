import type { Logger } from 'pino';
import { backoffDelayMs, type Clock, type Timer } from '../../daemon/clock.js';
import { hangupSafeBinding } from './hangup-safe-binding.js';

/**
 * One serial port kept open (STYLE rule 4: the transport layer). It knows nothing of lines or readings: it
 * opens the path, hands on bytes, and when the port errors or closes (USB unplugged, board reset) it tries
 * again with capped exponential backoff and jitter until it is stopped.
 */

/** The part of serialport's SerialPort stream this transport uses; tests may supply their own. */
export interface SerialLink {
  readonly isOpen: boolean;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'close', listener: (err?: Error | null) => void): unknown;
  removeAllListeners(): unknown;
  write(data: string | Buffer, callback: (err: Error | null | undefined) => void): boolean;
  close(callback: (err: Error | null) => void): void;
  pause(): unknown;
  resume(): unknown;
}

export type PortOpener = (path: string, baudRate: number) => Promise<SerialLink>;

/** Opens a port with the serialport library, imported only now (native bindings, STYLE rule 3). */
export const openSerialPort: PortOpener = async (path, baudRate) => {
  const { SerialPort } = await import('serialport');
  // SerialPort spreads its options over the detected binding, so a wrapped binding can be passed in; its
  // typings omit `binding`, hence the cast. See hangup-safe-binding.ts for why the wrap is needed.
  const options = { path, baudRate, autoOpen: false, binding: hangupSafeBinding(SerialPort.binding) };
  const port = new SerialPort(options as ConstructorParameters<typeof SerialPort>[0]);
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  return port;
};

export type PortState = 'connecting' | 'open' | 'waiting' | 'stopped';

export interface PortTransportOptions {
  path: string;
  baudRate: number;
  clock: Clock;
  log: Logger;
  open: PortOpener;
  reconnectBaseMs: number;
  reconnectCapMs: number;
  random?: () => number;
  onData(chunk: Buffer): void;
  onOpen?(): void;
  /** The open port was lost; a reconnect is scheduled right after unless stopped. */
  onClose?(reason: string): void;
}

export class PortTransport {
  private link?: SerialLink;
  private currentState: PortState = 'stopped';
  private attempt = 0;
  private opens = 0;
  private retryTimer?: Timer;
  private paused = false;
  private running = false;
  private lastErrorText?: string;

  constructor(private readonly options: PortTransportOptions) {}

  get state(): PortState {
    return this.currentState;
  }

  /** How often the port came back after the first open. */
  get reconnects(): number {
    return Math.max(0, this.opens - 1);
  }

  get lastError(): string | undefined {
    return this.lastErrorText;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.options.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.currentState = 'stopped';
    const link = this.link;
    this.link = undefined;
    if (link) await closeQuietly(link);
  }

  /** Stops reading: the OS buffer fills and the device's writes block (backpressure down the cable). */
  pause(): void {
    this.paused = true;
    this.link?.pause();
  }

  resume(): void {
    this.paused = false;
    this.link?.resume();
  }

  /** Writes to the open port; false when it is not open or the write failed. */
  write(data: string): Promise<boolean> {
    const link = this.link;
    if (!link || this.currentState !== 'open') return Promise.resolve(false);
    return new Promise((resolve) => {
      try {
        link.write(data, (err) => resolve(!err));
      } catch {
        resolve(false);
      }
    });
  }

  private async connect(): Promise<void> {
    this.retryTimer = undefined;
    if (!this.running) return;
    this.currentState = 'connecting';
    let link: SerialLink;
    try {
      link = await this.options.open(this.options.path, this.options.baudRate);
    } catch (err) {
      this.noteError((err as Error).message);
      this.scheduleRetry();
      return;
    }
    if (!this.running) {
      await closeQuietly(link);
      return;
    }
    this.link = link;
    this.opens++;
    this.currentState = 'open';
    this.lastErrorText = undefined;
    let receiving = false;
    link.on('data', (chunk) => {
      // Reset the backoff only once bytes flow: a port that opens and drops at once must not spin.
      if (!receiving) {
        receiving = true;
        this.attempt = 0;
      }
      this.options.onData(chunk);
    });
    link.on('error', (err) => this.lost(link, err.message));
    link.on('close', (err) => this.lost(link, err ? err.message : 'closed'));
    if (this.paused) link.pause();
    this.options.log.info({ path: this.options.path, reconnects: this.reconnects }, 'serial port open');
    this.options.onOpen?.();
  }

  private lost(link: SerialLink, reason: string): void {
    if (link !== this.link) return;
    this.link = undefined;
    link.removeAllListeners();
    // A listener-less emitter would throw on a late 'error': keep swallowing them.
    link.on('error', () => undefined);
    if (link.isOpen) void closeQuietly(link);
    this.noteError(reason);
    this.options.onClose?.(reason);
    if (this.running) this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (!this.running) return;
    this.currentState = 'waiting';
    const delayMs = backoffDelayMs(this.attempt++, this.options.reconnectBaseMs, this.options.reconnectCapMs, this.options.random);
    this.retryTimer = this.options.clock.setTimeout(() => void this.connect(), delayMs);
  }

  private noteError(reason: string): void {
    // Logged when the reason changes, not on every retry of an unplugged port.
    if (reason !== this.lastErrorText) {
      this.options.log.warn({ path: this.options.path, reason }, 'serial port unavailable');
    }
    this.lastErrorText = reason;
  }
}

function closeQuietly(link: SerialLink): Promise<void> {
  return new Promise((resolve) => {
    if (!link.isOpen) return resolve();
    try {
      link.close(() => resolve());
    } catch {
      resolve();
    }
  });
}
