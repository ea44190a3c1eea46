import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';

const MAX_TRACKED_ADDRESSES = 10_000;

export interface RateLimitOptions {
  /** Tokens gained per second. */
  ratePerS: number;
  /** Most tokens an address can save up. */
  burst: number;
  /** What is counted, for the 429's message: "readings", "predictions". */
  what: string;
}

/**
 * A token bucket per client address. A request is let in while its address's balance is positive and is
 * charged afterwards with what it cost (the readings of a batch, or 1): the check needs nothing from the body,
 * so it runs before the body is read, and a batch larger than the burst still gets through once, after which
 * its sender waits the deficit off. The fast path is one Map lookup and a little arithmetic.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** Requests answered 429 since start (for /metrics). */
  refused = 0;

  constructor(private readonly clock: Clock, readonly options: RateLimitOptions) {}

  /** 0 when the address may go ahead, else how long (ms) until its balance is positive again. */
  retryAfterMs(address: string): number {
    const bucket = this.refill(address);
    if (bucket === undefined || bucket.tokens > 0) return 0;
    return Math.floor((-bucket.tokens / this.options.ratePerS) * 1000) + 1;
  }

  charge(address: string, cost: number): void {
    if (!(cost > 0)) return;
    const bucket = this.refill(address);
    if (bucket) {
      bucket.tokens -= cost;
      return;
    }
    // Very many addresses at once (a scan): the oldest entry goes, as in the failed-auth limiter.
    if (this.buckets.size >= MAX_TRACKED_ADDRESSES) this.buckets.delete(this.buckets.keys().next().value!);
    this.buckets.set(address, { tokens: this.options.burst - cost, at: this.clock.now() });
  }

  /** A route's onRequest hook: 429 with Retry-After (whole seconds) and `{error, message}`. */
  readonly onRequest = async (request: FastifyRequest, reply: FastifyReply) => {
    const waitMs = this.retryAfterMs(request.ip);
    if (waitMs === 0) return;
    this.refused++;
    const retryAfterS = Math.ceil(waitMs / 1000);
    return reply.code(429).header('retry-after', String(retryAfterS)).send({
      error: 'rate_limited',
      message: `too many ${this.options.what} from this address (at most ${this.options.ratePerS}/s); retry after ${retryAfterS} s`,
      details: { retryAfterS },
    });
  };

  /** The address's bucket brought up to now; a full bucket is forgotten (a new address starts full). */
  private refill(address: string): { tokens: number; at: number } | undefined {
    const bucket = this.buckets.get(address);
    if (!bucket) return undefined;
    const now = this.clock.now();
    // A clock stepped backwards gains nothing and costs nothing.
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * this.options.ratePerS);
    bucket.at = now;
    if (bucket.tokens >= this.options.burst) {
      this.buckets.delete(address);
      return undefined;
    }
    return bucket;
  }
}
