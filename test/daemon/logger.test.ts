import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, redactUrl } from '../../daemon/logger.js';

test('secrets never reach a log line: tokens, Authorization headers, Postgres URLs', () => {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk, _encoding, done) { lines.push(chunk.toString()); done(); } });
  const log = createLogger({ level: 'info', destination: destination as never });
  log.info({ token: 'secret-token-1', req: { headers: { authorization: 'Bearer secret-token-2' } }, config: { sync: { postgresUrl: 'postgres://u:secret-pw@h/db' }, api: { token: 'secret-token-3' } } }, 'hello');
  log.info({ sync: { postgresUrl: 'postgres://u:secret-pw@h/db' } }, 'nested');
  const text = lines.join('');
  assert.match(text, /hello/);
  assert.doesNotMatch(text, /secret/);
  assert.equal(redactUrl('postgres://gym:hunter2@db.example.com:5432/gymhub'), 'postgres://gym:***@db.example.com:5432/gymhub');
});
