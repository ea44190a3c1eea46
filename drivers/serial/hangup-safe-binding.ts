import { read } from 'node:fs';
import { promisify } from 'node:util';

/**
 * serialport 13's unix read (bindings-cpp unix-read.js) retries a zero-byte read at once, forever. A tty that
 * hung up (USB board unplugged, pty master gone) reads 0 bytes, so an unplug spins a thread-pool loop and
 * never surfaces as a close: the port never comes back (serialport/bindings-cpp issue #162, fix PR #164 not
 * released). This wraps the platform binding so that a zero-byte read is reported as the disconnect it is;
 * the stream then closes the port with a DisconnectedError and PortTransport reconnects.
 *
 * On a non-blocking tty with VMIN=1 (how bindings-cpp opens ports) "no data yet" is EAGAIN, never 0 bytes,
 * so nothing else is affected.
 */

const readAsync = promisify(read);

/** The parts of a unix port binding (LinuxPortBinding, DarwinPortBinding) this patch touches. */
interface UnixPortBinding {
  fd: number | null;
  poller: { once(event: 'readable', callback: (err: Error | null) => void): unknown };
  readonly isOpen: boolean;
  read(buffer: Buffer, offset: number, length: number): Promise<{ bytesRead: number; buffer: Buffer }>;
}

interface BindingLike<Port, Options> {
  open(options: Options): Promise<Port>;
}

class PortReadError extends Error {
  constructor(message: string, readonly canceled: boolean, readonly disconnect: boolean) {
    super(message);
    this.name = 'PortReadError';
  }
}

export function hangupSafeBinding<Port, Options, B extends BindingLike<Port, Options>>(binding: B): B {
  return {
    ...binding,
    async open(options: Options): Promise<Port> {
      const port = await binding.open(options);
      if (isUnixPort(port)) port.read = (buffer, offset, length) => readUntilData(port, buffer, offset, length);
      return port;
    },
  };
}

function isUnixPort(port: unknown): port is UnixPortBinding {
  const candidate = port as Partial<UnixPortBinding> | null;
  return typeof candidate?.fd === 'number' && typeof candidate.poller?.once === 'function';
}

async function readUntilData(port: UnixPortBinding, buffer: Buffer, offset: number, length: number): Promise<{ bytesRead: number; buffer: Buffer }> {
  for (;;) {
    if (!port.isOpen || port.fd === null) throw new PortReadError('Port is not open', true, false);
    try {
      const { bytesRead } = await readAsync(port.fd, buffer, offset, length, null);
      if (bytesRead === 0) throw new PortReadError('port hung up (end of file): device unplugged or gone', false, true);
      return { bytesRead, buffer };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK' && code !== 'EINTR') throw err;
      // The port may have been closed while the read was in the thread pool; polling its destroyed poller
      // would crash the process (a native use-after-free), so check again first.
      if (!port.isOpen || port.fd === null) throw new PortReadError('Port is not open', true, false);
      await new Promise<void>((resolve, reject) => port.poller.once('readable', (e) => (e ? reject(e) : resolve())));
    }
  }
}
