import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hangupSafeBinding } from '../../drivers/serial/hangup-safe-binding.js';

/**
 * A pseudo-terminal pair made by socat, standing in for a USB serial cable: the test plays the device on
 * devicePath, the code under test opens hubPath. Bytes written on one side come out of the other.
 */
export interface PtyPair {
  devicePath: string;
  hubPath: string;
  /** The pty names socat reported (/dev/pts/N), device side first. */
  ptys: [string, string];
  /** Ends socat (SIGTERM, it removes its links) and waits for it to exit. */
  close(): Promise<void>;
  /**
   * Ends socat abruptly (SIGKILL, as a pulled cable: both ends hang up mid-stream) and removes the links, as
   * udev removes /dev/ttyUSB0 on unplug. (A dangling link would be worse than real life: its /dev/pts number
   * is soon reused by another pty, and opening it would reach a stranger.)
   */
  kill(): Promise<void>;
}

export interface PtyOptions {
  /**
   * Reuse these link paths (to bring "the same" port back after close/kill); the caller owns their
   * directory (makeLinkDir). Without them the helper makes a directory and removes it on close/kill.
   */
  devicePath?: string;
  hubPath?: string;
  /** How long to wait for socat to report both ptys before giving up. */
  startTimeoutMs?: number;
}

/** Why pty tests must be skipped on this machine, or undefined when socat is available. */
export function ptySkipReason(): string | undefined {
  const probe = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  if (probe.error) return `socat is not installed (${(probe.error as NodeJS.ErrnoException).code ?? probe.error.message})`;
  return undefined;
}

/** A fresh temporary directory for link paths; removed by the returned function. */
export function makeLinkDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'gymhub-pty-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startPtyPair(options: PtyOptions = {}): Promise<PtyPair> {
  let dir: string | undefined;
  if (!options.devicePath || !options.hubPath) dir = mkdtempSync(join(tmpdir(), 'gymhub-pty-'));
  const devicePath = options.devicePath ?? join(dir!, 'device');
  const hubPath = options.hubPath ?? join(dir!, 'hub');
  const child = spawn(
    'socat',
    ['-d', '-d', `pty,raw,echo=0,link=${devicePath}`, `pty,raw,echo=0,link=${hubPath}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  let ptys: [string, string];
  try {
    ptys = await waitForPtys(child, options.startTimeoutMs ?? 10_000);
  } catch (err) {
    if (dir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
    if (signal === 'SIGKILL') {
      rmSync(devicePath, { force: true });
      rmSync(hubPath, { force: true });
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  return { devicePath, hubPath, ptys, close: () => stop('SIGTERM'), kill: () => stop('SIGKILL') };
}

/**
 * socat -d -d prints "PTY is /dev/pts/N" for each side, then "starting data transfer loop" once both links
 * exist. That line is the event we wait on; stderr is drained afterwards so socat never blocks on it.
 */
function waitForPtys(child: ChildProcess, timeoutMs: number): Promise<[string, string]> {
  return new Promise((resolve, reject) => {
    const names: string[] = [];
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      let newline: number;
      while ((newline = text.indexOf('\n')) >= 0) {
        const line = text.slice(0, newline);
        text = text.slice(newline + 1);
        const pty = /PTY is (\S+)/.exec(line);
        if (pty) names.push(pty[1]);
        if (names.length >= 2 && line.includes('starting data transfer loop')) {
          finish();
          resolve([names[0], names[1]]);
        }
      }
    };
    const onExit = (code: number | null): void => {
      finish();
      reject(new Error(`socat exited (${code}) before both ptys were ready: ${text.trim()}`));
    };
    const onError = (err: Error): void => {
      finish();
      reject(err);
    };
    const timer = setTimeout(() => {
      finish();
      child.kill('SIGKILL');
      reject(new Error(`socat did not report both ptys within ${timeoutMs} ms: ${text.trim()}`));
    }, timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      child.stderr!.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      child.stderr!.resume();
    };
    child.stderr!.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

/** The device end of a pty pair, opened like a real board's UART: writes with backpressure, reads hub lines. */
export interface DeviceSide {
  /** Writes text; resolves once the port has taken it (awaits 'drain' when the pty is full). */
  write(text: string | Buffer): Promise<void>;
  /** Writes each line with "\n", as fast as the pty takes them. */
  writeLines(lines: Iterable<string>): Promise<void>;
  /** Lines the hub wrote to the device (commands). */
  readonly received: string[];
  /** Resolves with the oldest line not yet taken by nextLine (waits for one if there is none). */
  nextLine(): Promise<string>;
  /** Errors the port reported (a killed socat shows up here, not as a throw). */
  readonly errors: Error[];
  close(): Promise<void>;
}

export async function openDeviceSide(path: string): Promise<DeviceSide> {
  const { SerialPort } = await import('serialport');
  // The same unplug-safe binding as the hub's (drivers/serial/hangup-safe-binding.ts): without it, killing
  // socat can leave this side spinning on zero-byte reads.
  const options = { path, baudRate: 115200, autoOpen: false, binding: hangupSafeBinding(SerialPort.binding) };
  const port = new SerialPort(options as ConstructorParameters<typeof SerialPort>[0]);
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  const errors: Error[] = [];
  const received: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  let partial = '';
  let taken = 0;
  port.on('error', (err) => errors.push(err));
  port.on('data', (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    let newline: number;
    while ((newline = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, newline);
      partial = partial.slice(newline + 1);
      received.push(line);
      const waiter = waiters.shift();
      if (waiter) {
        taken++;
        waiter(line);
      }
    }
  });
  const write = (text: string | Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      const onClose = (): void => reject(new Error('device port closed while writing'));
      port.once('close', onClose);
      const done = (): void => {
        port.off('close', onClose);
        resolve();
      };
      if (port.write(text)) done();
      else port.once('drain', done);
    });
  return {
    write,
    async writeLines(lines) {
      // Lines are grouped into writes of ~16 kB: one syscall per line would measure the test, not the hub.
      let batch = '';
      for (const line of lines) {
        batch += `${line}\n`;
        if (batch.length >= 16_384) {
          await write(batch);
          batch = '';
        }
      }
      if (batch) await write(batch);
    },
    received,
    nextLine: () => (taken < received.length ? Promise.resolve(received[taken++]) : new Promise((resolve) => waiters.push(resolve))),
    errors,
    close: () =>
      new Promise((resolve) => {
        if (!port.isOpen) return resolve();
        port.close(() => resolve());
      }),
  };
}
