import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineFramer } from '../../drivers/serial/line-framer.js';

function feed(framer: LineFramer, ...chunks: (Buffer | string)[]): string[] {
  const lines: string[] = [];
  for (const chunk of chunks) framer.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk, (l) => lines.push(l));
  return lines;
}

test('splits a chunk into lines and strips \\r of \\r\\n endings', () => {
  const framer = new LineFramer();
  assert.deepEqual(feed(framer, 'a,1\nb,2\r\nc,3\n'), ['a,1', 'b,2', 'c,3']);
  assert.equal(framer.counts.lines, 3);
  assert.equal(framer.counts.garbled, 0);
  assert.equal(framer.bufferedBytes, 0);
});

test('joins a line split across many chunks, even byte by byte', () => {
  const framer = new LineFramer();
  const text = '{"hello":{"deviceId":"bar-1"}}\r\n1,567233,1.414,-7.923\n';
  const chunks = [...Buffer.from(text)].map((b) => Buffer.from([b]));
  assert.deepEqual(feed(framer, ...chunks), ['{"hello":{"deviceId":"bar-1"}}', '1,567233,1.414,-7.923']);
});

test('a \\r\\n split between chunks still strips the \\r', () => {
  const framer = new LineFramer();
  assert.deepEqual(feed(framer, 'abc\r', '\ndef\n'), ['abc', 'def']);
});

test('holds a partial line until its newline, and counts it when the stream ends without one', () => {
  const framer = new LineFramer();
  assert.deepEqual(feed(framer, 'complete\npart'), ['complete']);
  assert.equal(framer.bufferedBytes, 4);
  framer.end();
  assert.equal(framer.bufferedBytes, 0);
  assert.equal(framer.counts.garbledBy.partial, 1);
  assert.deepEqual(feed(framer, 'next\n'), ['next'], 'the partial bytes do not leak into the next line');
});

test('an overlong line is counted once, skipped, and the stream resyncs at the next newline', () => {
  const framer = new LineFramer({ maxLineBytes: 16 });
  const lines = feed(framer, 'ok1\n', 'x'.repeat(10), 'y'.repeat(10), 'z'.repeat(100), 'tail\nok2\n');
  assert.deepEqual(lines, ['ok1', 'ok2']);
  assert.equal(framer.counts.garbledBy.overlong, 1);
  assert.equal(framer.counts.garbled, 1);
  assert.ok(framer.bufferedBytes <= 16);
});

test('an overlong line inside one chunk is skipped too; a line of exactly the limit passes', () => {
  const framer = new LineFramer({ maxLineBytes: 8 });
  assert.deepEqual(feed(framer, '12345678\n123456789\nok\n'), ['12345678', 'ok']);
  assert.equal(framer.counts.garbledBy.overlong, 1);
});

test('memory stays bounded while a newline never comes', () => {
  const framer = new LineFramer({ maxLineBytes: 1024 });
  for (let i = 0; i < 1000; i++) feed(framer, Buffer.alloc(512, 0x41));
  assert.ok(framer.bufferedBytes <= 1024);
  assert.equal(framer.counts.garbledBy.overlong, 1, 'one runaway line counts once');
  assert.deepEqual(feed(framer, 'end\nfine\n'), ['fine']);
});

test('binary garbage and invalid UTF-8 are counted and skipped, valid neighbours kept', () => {
  const framer = new LineFramer();
  const lines = feed(
    framer,
    Buffer.concat([
      Buffer.from('good,1\n'),
      Buffer.from([0xff, 0xfe, 0x80, 0x0a]), // not UTF-8
      Buffer.from([0x41, 0x00, 0x01, 0x42, 0x0a]), // valid UTF-8 but control bytes
      Buffer.from('mid\rline\n'), // a bare \r inside a line is noise
      Buffer.from('good,2\n'),
      Buffer.from('caf\u00e9,\u00b5T\n'), // real multibyte UTF-8 is fine
    ]),
  );
  assert.deepEqual(lines, ['good,1', 'good,2', 'caf\u00e9,\u00b5T']);
  assert.equal(framer.counts.garbledBy.not_utf8, 1);
  assert.equal(framer.counts.garbledBy.control_chars, 2);
  assert.equal(framer.counts.garbled, 3);
});

test('a multibyte character split across chunks is reassembled, not garbled', () => {
  const framer = new LineFramer();
  const bytes = Buffer.from('\u00b5T\n');
  assert.deepEqual(feed(framer, bytes.subarray(0, 1), bytes.subarray(1)), ['\u00b5T']);
  assert.equal(framer.counts.garbled, 0);
});

test('blank lines are skipped without counting as garbled', () => {
  const framer = new LineFramer();
  assert.deepEqual(feed(framer, '\n\r\n  \na\n'), ['a']);
  assert.equal(framer.counts.blank, 3);
  assert.equal(framer.counts.garbled, 0);
});

test('the framer copies what it keeps: a reused chunk buffer does not corrupt a pending line', () => {
  const framer = new LineFramer();
  const pool = Buffer.from('abc');
  const out: string[] = [];
  framer.push(pool, (l) => out.push(l));
  pool.write('XYZ');
  framer.push(Buffer.from('def\n'), (l) => out.push(l));
  assert.deepEqual(out, ['abcdef']);
});

test('random chunking of a mixed stream gives the same lines as one chunk', () => {
  let seed = 7;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const parts: Buffer[] = [];
  for (let i = 0; i < 2000; i++) {
    const kind = Math.floor(random() * 4);
    if (kind === 0) parts.push(Buffer.from(`1,${i},1.0,2.0,9.8,0.1,0.2,0.3\r\n`));
    else if (kind === 1) parts.push(Buffer.from(`{"d":"x","i":${i}}\n`));
    else if (kind === 2) parts.push(Buffer.from([0xc3, 0x28, 0x0a]));
    else parts.push(Buffer.from('\n'));
  }
  const stream = Buffer.concat(parts);
  const whole = new LineFramer();
  const expected = feed(whole, stream);
  const split = new LineFramer();
  const got: string[] = [];
  for (let at = 0; at < stream.length; ) {
    const size = 1 + Math.floor(random() * 64);
    split.push(stream.subarray(at, at + size), (l) => got.push(l));
    at += size;
  }
  assert.deepEqual(got, expected);
  assert.deepEqual(split.counts, whole.counts);
  assert.equal(whole.counts.lines + whole.counts.garbled + whole.counts.blank, 2000);
});
