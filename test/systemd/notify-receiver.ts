/**
 * A real unix datagram socket standing in for systemd's NOTIFY_SOCKET. Path sockets are bound in-process with
 * unix-dgram when it built; abstract sockets ('@...'), which unix-dgram cannot bind, use a python3 child.
 * Either way a receive without ancillary buffer discards the fd that systemd-notify's BARRIER=1 carries, which
 * is how systemd itself answers the barrier.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { loadUnixDgram } from '../../daemon/systemd/notify-transport.js';

export const RECEIVE_TIMEOUT_MS = 10_000;

export interface NotifyReceiver {
  readonly address: string;
  /** Every datagram so far, in arrival order. */
  readonly messages: string[];
  /** Resolves with the messages once `count` of them satisfy the predicate; rejects after RECEIVE_TIMEOUT_MS. */
  waitFor(predicate: (message: string) => boolean, count?: number): Promise<string[]>;
  close(): Promise<void>;
}

interface UnixDgramServer {
  on(event: 'message', listener: (buf: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  bind(path: string): void;
  close(): void;
}

const PYTHON_RECEIVER = `
import json, socket, sys
address = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + address[1:] if address.startswith('@') else address)
print(json.dumps({"listening": address}), flush=True)
while True:
    print(json.dumps({"message": s.recv(65536).decode()}), flush=True)
`;

/** Undefined when this machine has no way to bind such a socket (the caller skips with a reason). */
export async function startReceiver(address: string): Promise<NotifyReceiver | undefined> {
  if (!address.startsWith('@')) {
    const { module } = await loadUnixDgram();
    if (module) return inProcessReceiver(address, module.createSocket('unix_dgram') as unknown as UnixDgramServer);
  }
  if (!(await hasCommand('python3'))) return undefined;
  return pythonReceiver(address);
}

export async function hasCommand(name: string): Promise<boolean> {
  const child = spawn('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
  const [code] = (await once(child, 'exit')) as [number | null];
  return code === 0;
}

function inProcessReceiver(address: string, socket: UnixDgramServer): NotifyReceiver {
  const receiver = collector(address, async () => socket.close());
  socket.on('message', (buf) => receiver.push(buf.toString('utf8')));
  socket.on('error', (err) => receiver.fail(err));
  socket.bind(address);
  return receiver;
}

async function pythonReceiver(address: string): Promise<NotifyReceiver> {
  const child = spawn('python3', ['-c', PYTHON_RECEIVER, address], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit');
  const receiver = collector(address, async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  });
  const listening = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const parsed = JSON.parse(line) as { listening?: string; message?: string };
      if (parsed.listening) resolve();
      if (parsed.message !== undefined) receiver.push(parsed.message);
    });
    void exited.then(([code]) => {
      const err = new Error(`python3 receiver exited with ${code}: ${stderr}`);
      reject(err);
      receiver.fail(err);
    });
  });
  await listening;
  return receiver;
}

function collector(address: string, close: () => Promise<void>) {
  const messages: string[] = [];
  const waiters = new Set<() => void>();
  let failure: Error | undefined;
  const wake = () => {
    for (const waiter of [...waiters]) waiter();
  };
  return {
    address,
    messages,
    push(message: string) {
      messages.push(message);
      wake();
    },
    fail(err: Error) {
      failure ??= err;
      wake();
    },
    waitFor(predicate: (message: string) => boolean, count = 1): Promise<string[]> {
      return new Promise<string[]>((resolve, reject) => {
        const check = () => {
          const matching = messages.filter(predicate);
          if (matching.length >= count || failure) {
            waiters.delete(check);
            clearTimeout(timer);
            if (matching.length >= count) resolve(matching);
            else reject(failure);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} matching notifications within ${RECEIVE_TIMEOUT_MS} ms; got ${JSON.stringify(messages)}`));
        }, RECEIVE_TIMEOUT_MS);
        waiters.add(check);
        check();
      });
    },
    close,
  };
}
