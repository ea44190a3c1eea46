/**
 * Two ways to put one sd_notify datagram on systemd's NOTIFY_SOCKET, because Node has no unix datagram sockets:
 *
 * - `unix-dgram` (an optional dependency with a native addon): a datagram from this very process, so the unit
 *   would do with NotifyAccess=main. It cannot reach abstract sockets ('@...'): the addon copies the address
 *   with strncpy, which stops at the leading NUL.
 * - the `systemd-notify` command, which ships with systemd itself, so it is wherever NOTIFY_SOCKET is. It sends
 *   from a child process, hence NotifyAccess=all in deploy/gymhub.service, and by default it waits on a barrier
 *   until systemd has read the message, so the message is never dropped for coming from a process that already
 *   exited.
 *
 * libsystemd bindings (the `sd-notify` package) are not used: a failed native build there would fail the whole
 * `npm install` on a machine without libsystemd-dev, which SPEC section 10 forbids.
 */
import { spawn as spawnChild } from 'node:child_process';

export type NotifyTransportKind = 'datagram' | 'cli';

export interface NotifyTransport {
  readonly kind: NotifyTransportKind;
  /** Sends one notification: KEY=VALUE lines joined by '\n'. Rejects with the reason it could not be sent. */
  send(message: string): Promise<void>;
}

/** The slice of `unix-dgram` used here; the package ships no types. */
interface UnixDgramSocket {
  on(event: 'error', listener: (err: Error) => void): unknown;
  send(buf: Buffer, offset: number, length: number, path: string, callback: (err?: Error) => void): void;
  close(): void;
}

export interface UnixDgramModule {
  createSocket(type: 'unix_dgram'): UnixDgramSocket;
}

/** Loads the optional native addon; undefined (with the reason) where it did not build or is not installed. */
export async function loadUnixDgram(): Promise<{ module?: UnixDgramModule; reason?: string }> {
  // A variable specifier keeps the type checker from requiring the optional package to be installed.
  const name = 'unix-dgram';
  try {
    const loaded = (await import(name)) as { default?: UnixDgramModule } & Partial<UnixDgramModule>;
    const module = loaded.default ?? (loaded as UnixDgramModule);
    if (typeof module.createSocket !== 'function') return { reason: 'unix-dgram has no createSocket' };
    return { module };
  } catch (err) {
    return { reason: (err as Error).message };
  }
}

/**
 * A fresh socket per message: a notification goes out every few seconds at most, and an open unix-dgram socket
 * would hold the event loop (its poll handle cannot be unref'd) and go stale if systemd re-creates its socket.
 */
export class DatagramNotifyTransport implements NotifyTransport {
  readonly kind = 'datagram';

  constructor(private readonly unixDgram: UnixDgramModule, private readonly socketPath: string) {
    if (socketPath.startsWith('@')) throw new Error('unix-dgram cannot reach abstract sockets');
  }

  send(message: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let socket: UnixDgramSocket;
      try {
        socket = this.unixDgram.createSocket('unix_dgram');
      } catch (err) {
        reject(err as Error);
        return;
      }
      socket.on('error', reject);
      const buf = Buffer.from(message, 'utf8');
      try {
        socket.send(buf, 0, buf.length, this.socketPath, (err) => {
          closeQuietly(socket);
          if (err) reject(err);
          else resolve();
        });
      } catch (err) {
        closeQuietly(socket);
        reject(err as Error);
      }
    });
  }
}

export type SpawnFn = typeof spawnChild;

export interface CliNotifyTransportOptions {
  /** NOTIFY_SOCKET as systemd gave it; systemd-notify understands '@' for abstract sockets. */
  socket: string;
  /** PATH for finding systemd-notify (the unit's default PATH has /usr/bin). */
  path?: string;
  command?: string;
  /** Past this the child is killed: systemd-notify's own barrier timeout is 5 s. */
  timeoutMs?: number;
  spawn?: SpawnFn;
}

export const SYSTEMD_NOTIFY_TIMEOUT_MS = 10_000;
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export class CliNotifyTransport implements NotifyTransport {
  readonly kind = 'cli';
  private readonly command: string;
  private readonly timeoutMs: number;
  private readonly spawn: SpawnFn;

  constructor(private readonly options: CliNotifyTransportOptions) {
    this.command = options.command ?? 'systemd-notify';
    this.timeoutMs = options.timeoutMs ?? SYSTEMD_NOTIFY_TIMEOUT_MS;
    this.spawn = options.spawn ?? spawnChild;
  }

  send(message: string): Promise<void> {
    // Each line is one argument; MAINPID= becomes --pid=, the form every systemd-notify version understands.
    const args: string[] = [];
    for (const line of message.split('\n')) {
      if (line === '') continue;
      if (line.startsWith('MAINPID=')) args.unshift(`--pid=${line.slice('MAINPID='.length)}`);
      else args.push(line);
    }
    return new Promise((resolve, reject) => {
      // A minimal environment: the child needs the socket and PATH, and none of the daemon's secrets.
      const child = this.spawn(this.command, args, {
        env: { NOTIFY_SOCKET: this.options.socket, PATH: this.options.path ?? DEFAULT_PATH },
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: this.timeoutMs,
      });
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        if (stderr.length < 1000) stderr += chunk;
      });
      child.on('error', reject);
      child.on('close', (code, signal) => {
        if (code === 0) resolve();
        else reject(new Error(`${this.command} ${signal ? `killed by ${signal}` : `exited with ${code}`}${stderr ? `: ${stderr.trim()}` : ''}`));
      });
    });
  }
}

function closeQuietly(socket: UnixDgramSocket): void {
  try {
    socket.close();
  } catch {
    // Closing a socket that failed to open has nothing left to release.
  }
}
