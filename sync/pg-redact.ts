import { redactUrl } from '../daemon/logger.js';

/** Credentials shorter than this are not masked inside free text: masking "pg" would mangle every message. */
const MIN_MASKED_CHARS = 3;

/**
 * An error's message with the Postgres credentials taken out, for logs, GET /sync and /health. pg's own
 * messages can name the user (`password authentication failed for user "gym"`) and a message passed up from
 * a driver or DNS lookup can carry the whole connection string.
 */
export function redactPgMessage(message: string, url: string): string {
  let out = message.replace(/postgres(?:ql)?:\/\/[^\s"'<>]+/g, (found) => redactUrl(found));
  for (const secret of credentialsOf(url)) out = out.split(secret).join('***');
  return out;
}

/** Where sync uploads to, without user or password: `host:port/database`. */
export function pgTarget(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return 'postgres (unparsable URL)';
  }
}

/** The password and user of a connection string, raw and percent-decoded, longest first. */
function credentialsOf(url: string): string[] {
  let user = '';
  let password = '';
  try {
    const parsed = new URL(url);
    user = parsed.username;
    password = parsed.password;
  } catch {
    const match = /\/\/([^:/@]*)(?::([^@]*))?@/.exec(url);
    user = match?.[1] ?? '';
    password = match?.[2] ?? '';
  }
  const found = new Set<string>();
  const add = (value: string, always: boolean) => {
    for (const form of [value, safeDecode(value)]) if (form.length > 0 && (always || form.length >= MIN_MASKED_CHARS)) found.add(form);
  };
  add(password, true);
  add(user, false);
  return [...found].sort((a, b) => b.length - a.length);
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
