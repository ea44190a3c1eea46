import pino from 'pino';
import { Codec, type CodecOptions } from '../../drivers/codec/codec.js';
import type { DecodeContext } from '../../drivers/codec/types.js';
import type { Transport } from '../../drivers/reading.js';
import { FakeClock } from '../helpers/fake-clock.js';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A codec on a FakeClock whose warn lines land in `logs`. */
export function makeCodec(opts: Partial<Omit<CodecOptions, 'clock' | 'log'>> & { silent?: boolean } = {}) {
  const clock = new FakeClock();
  const logs: LogLine[] = [];
  const log = pino({ level: opts.silent ? 'silent' : 'warn' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const codec = new Codec({ clock, log, ...opts });
  const ctx = (transport: Transport, deviceId?: string, receivedAt = clock.now()): DecodeContext =>
    deviceId === undefined ? { transport, receivedAt } : { transport, receivedAt, deviceId };
  return { codec, clock, logs, ctx };
}
