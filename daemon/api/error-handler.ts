import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GymhubError } from '../errors.js';

/**
 * Every error as `{error, message, details?}`: coded errors (daemon/errors.ts, the store's) with their own
 * status, validation and other client mistakes as 4xx, anything else a logged 500.
 */
export function apiErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof GymhubError) {
    return reply.code(error.statusCode).send({ error: error.code, message: error.message, details: error.details });
  }
  if (error.validation) {
    return reply.code(400).send({ error: 'validation', message: error.message, details: error.validation });
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return reply.code(status).send({ error: (error.code ?? 'bad_request').toLowerCase(), message: error.message });
  }
  // The path only: a browser's stream URL carries the API token in its query.
  request.log.error({ err: error, method: request.method, path: request.url.split('?')[0] }, 'request failed');
  return reply.code(500).send({ error: 'internal', message: 'internal error' });
}
