import type { FastifyCorsOptions } from '@fastify/cors';

/** How long a browser may cache a preflight answer. */
export const CORS_MAX_AGE_S = 600;

/**
 * CORS for the configured origins only (http.corsOrigins), compared exactly. Any other origin gets no CORS
 * header at all, and its preflight falls through to the auth hook (401), so the browser refuses the call. An
 * allowed origin's preflight is answered before the auth hook: browsers never send the token on a preflight.
 */
export function corsOptions(origins: readonly string[]): FastifyCorsOptions {
  const allowed = new Set(origins);
  return {
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type'],
    exposedHeaders: ['retry-after', 'location', 'content-disposition'],
    maxAge: CORS_MAX_AGE_S,
    // A bare OPTIONS from an allowed origin is answered like a preflight rather than with a text/plain 400.
    strictPreflight: false,
  };
}
