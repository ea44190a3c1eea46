import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.js';

/** Tokens are stored and compared as SHA-256 digests: a 256-bit random token needs no slow hash. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time check of an `Authorization: Bearer <token>` header against the stored digest. */
export function bearerMatches(header: string | undefined, tokenHash: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  const presented = Buffer.from(hashToken(match?.[1] ?? ''), 'hex');
  const expected = Buffer.from(tokenHash, 'hex');
  return match !== null && presented.length === expected.length && timingSafeEqual(presented, expected);
}

export const FAILED_AUTH_LIMIT = 20;
export const FAILED_AUTH_WINDOW_MS = 60_000;
const MAX_TRACKED_ADDRESSES = 10_000;

/** Counts failed attempts per client address in a fixed window; over the limit the address gets 429s. */
export class FailedAuthLimiter {
  private readonly failures = new Map<string, { windowStart: number; count: number }>();
  /** Requests answered 429 since start (for /metrics). */
  refused = 0;

  constructor(private readonly clock: Clock, private readonly limit = FAILED_AUTH_LIMIT, private readonly windowMs = FAILED_AUTH_WINDOW_MS) {}

  blocked(address: string): boolean {
    const entry = this.failures.get(address);
    return entry !== undefined && this.clock.now() - entry.windowStart < this.windowMs && entry.count >= this.limit;
  }

  recordFailure(address: string): void {
    const now = this.clock.now();
    const entry = this.failures.get(address);
    if (!entry || now - entry.windowStart >= this.windowMs) {
      if (this.failures.size >= MAX_TRACKED_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
      this.failures.set(address, { windowStart: now, count: 1 });
    } else {
      entry.count++;
    }
  }
}
