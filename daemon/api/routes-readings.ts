import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Clock } from '../clock.js';
import type { Codec } from '../../drivers/codec/codec.js';
import type { ReadingSink } from '../../drivers/driver.js';
import { BadRequestError, GymhubError, NotFoundError } from '../errors.js';
import type { ApiStore } from './app.js';
import type { RateLimiter } from './rate-limit.js';
import { CursorQuery, DeviceIdParam, ErrorSchema, IngestResultSchema, ReadingSchema, TimeRangeQuery, pageOf } from './schemas.js';

interface ReadingRouteOptions {
  store: ApiStore;
  codec: Codec;
  sink: ReadingSink;
  clock: Clock;
  /** Readings per second per client address (http.ingestReadingsPerS). */
  limiter?: RateLimiter;
}

export const readingRoutes: FastifyPluginAsyncTypebox<ReadingRouteOptions> = async (app, { store, codec, sink, clock, limiter }) => {
  // The codec parses the body itself (one parse, its own size and shape limits); parsers are scoped to this plugin.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post('/readings', {
    ...(limiter && { onRequest: limiter.onRequest }),
    schema: {
      description: 'Ingest readings in wire format (a) seed JSON (object or array) or (b) compact batch. Answered 202 once stored.',
      response: { 202: IngestResultSchema, 400: ErrorSchema, 413: ErrorSchema, 429: ErrorSchema, 507: ErrorSchema },
    },
  }, async (request, reply) => {
    const body = request.body as Buffer | undefined;
    const result = body && body.length > 0 ? codec.decodeJson(body, { transport: 'http', receivedAt: clock.now() }) : undefined;
    // Every sample tried counts against the client's budget, valid or not; a request costs at least one.
    limiter?.charge(request.ip, Math.max(1, result ? result.readings.length + result.rejected + result.duplicates : 0));
    if (!result) throw new BadRequestError('empty body: send format (a) or (b) JSON');
    if (result.readings.length === 0 && result.duplicates === 0) {
      const reason = result.firstError?.reason ?? 'no_readings';
      const message = result.firstError?.message ?? 'the payload holds no readings';
      // A re-sent batch (all duplicates) is fine and answered 202; a payload with nothing usable is not.
      if (reason === 'too_large') throw new GymhubError('too_large', message, 413, result.firstError);
      throw new BadRequestError(message, result.firstError, reason);
    }
    try {
      await sink.ingest(result.readings, 'http');
    } catch (err) {
      // Not stored: the client will send them again, and they must not then count as duplicates.
      codec.rewind(result.readings, 'http');
      throw err;
    }
    const errors = result.firstError ? [result.firstError] : undefined;
    return reply.code(202).send({ accepted: result.readings.length, rejected: result.rejected, duplicates: result.duplicates, errors });
  });

  app.get('/readings', {
    schema: {
      description: 'Readings oldest first, paged by cursor; without deviceId every device merged by time.',
      querystring: Type.Object({ deviceId: Type.Optional(DeviceIdParam), ...TimeRangeQuery, ...CursorQuery }),
      response: { 200: pageOf(ReadingSchema), 400: ErrorSchema },
    },
  }, async (request) => {
    const { deviceId, from, to, limit = 1000, cursor } = request.query;
    if (from !== undefined && to !== undefined && from > to) throw new BadRequestError('from must not be after to (the range is [from, to))');
    try {
      return await store.read({ deviceId, from, to, limit, cursor });
    } catch (err) {
      if ((err as { code?: string }).code === 'bad_cursor') throw new BadRequestError('invalid cursor', undefined, 'bad_cursor');
      throw err;
    }
  });

  app.get('/readings/latest', {
    schema: {
      description: "With deviceId: that device's newest reading (404 if none). Without: each device's newest.",
      querystring: Type.Object({ deviceId: Type.Optional(DeviceIdParam) }),
      response: { 200: Type.Union([ReadingSchema, pageOf(ReadingSchema)]), 404: ErrorSchema },
    },
  }, async (request) => {
    const { deviceId } = request.query;
    if (deviceId === undefined) return { items: store.latestAll(), nextCursor: null };
    const reading = store.latest(deviceId);
    if (!reading) throw new NotFoundError('device', deviceId);
    return reading;
  });
};
