import { isUtf8 } from 'node:buffer';

/**
 * Splits a serial byte stream into text lines (STYLE rule 4: the pure layer, no I/O).
 *
 * A USB serial link loses and mangles bytes: a board resets mid-line, the hub opens the port in the middle of
 * a line, a baud mismatch produces binary noise. So every line is checked on its own and a bad one is counted
 * and skipped while its neighbours go through; the stream always resynchronises at the next newline.
 */

/**
 * The codec's own JSON payload limit (DEFAULT_CODEC_LIMITS.maxJsonBytes): a longer line could never be accepted,
 * so it is noise or a lost newline. It also bounds the memory one port can hold for an unfinished line.
 */
export const DEFAULT_MAX_LINE_BYTES = 256 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
// Control characters other than tab never appear in JSON or CSV text lines; they mean line noise.
const CONTROL_CHARS = /[\x00-\x08\x0b-\x1f\x7f]/;
const BLANK = /^\s*$/;

export type GarbledReason = 'overlong' | 'not_utf8' | 'control_chars' | 'partial';

export interface FramerCounts {
  /** Lines handed on. */
  lines: number;
  /** Lines skipped as garbled (all reasons together). */
  garbled: number;
  /** Garbled lines by reason. */
  garbledBy: Record<GarbledReason, number>;
  /** Blank lines, skipped without counting as garbled (a bare "\r\n" between lines is harmless). */
  blank: number;
}

export interface LineFramerOptions {
  maxLineBytes?: number;
}

export class LineFramer {
  readonly counts: FramerCounts = {
    lines: 0,
    garbled: 0,
    garbledBy: { overlong: 0, not_utf8: 0, control_chars: 0, partial: 0 },
    blank: 0,
  };
  private readonly maxLineBytes: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** True after an overlong line was dropped: everything up to the next newline belongs to it. */
  private discarding = false;

  constructor(options: LineFramerOptions = {}) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  /** Feeds one chunk; calls onLine for each complete, valid line in order. */
  push(chunk: Buffer, onLine: (line: string) => void): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline < 0) {
        this.keep(chunk.subarray(start));
        return;
      }
      if (this.discarding) {
        this.discarding = false;
      } else if (this.pendingBytes + (newline - start) > this.maxLineBytes) {
        this.dropPending();
        this.garbled('overlong');
      } else {
        this.emit(this.take(chunk.subarray(start, newline)), onLine);
      }
      start = newline + 1;
    }
  }

  /** The stream ended (port closed): a line still waiting for its newline is a partial line. */
  end(): void {
    if (this.pendingBytes > 0 && !this.discarding) this.garbled('partial');
    this.dropPending();
    this.discarding = false;
  }

  /** Bytes held for an unfinished line (bounded by maxLineBytes). */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  private keep(part: Buffer): void {
    if (this.discarding) return;
    if (this.pendingBytes + part.length > this.maxLineBytes) {
      // Counted now, not at the newline, so that memory stays bounded while a newline never comes.
      this.dropPending();
      this.garbled('overlong');
      this.discarding = true;
      return;
    }
    // The chunk's memory belongs to the port stream, which may reuse its pool: copy what we hold on to.
    this.pending.push(Buffer.from(part));
    this.pendingBytes += part.length;
  }

  private take(tail: Buffer): Buffer {
    if (this.pendingBytes === 0) return tail;
    this.pending.push(tail);
    const whole = Buffer.concat(this.pending, this.pendingBytes + tail.length);
    this.dropPending();
    return whole;
  }

  private emit(raw: Buffer, onLine: (line: string) => void): void {
    const bytes = raw.length > 0 && raw[raw.length - 1] === CARRIAGE_RETURN ? raw.subarray(0, raw.length - 1) : raw;
    if (!isUtf8(bytes)) {
      this.garbled('not_utf8');
      return;
    }
    const line = bytes.toString('utf8');
    if (BLANK.test(line)) {
      this.counts.blank++;
      return;
    }
    if (CONTROL_CHARS.test(line)) {
      this.garbled('control_chars');
      return;
    }
    this.counts.lines++;
    onLine(line);
  }

  private dropPending(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }

  private garbled(reason: GarbledReason): void {
    this.counts.garbled++;
    this.counts.garbledBy[reason]++;
  }
}
