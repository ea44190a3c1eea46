import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { DeviceRegistry } from '../device-registry.js';
import { NotFoundError } from '../errors.js';
import { CursorQuery, DeviceIdParam, DeviceSchema, ErrorSchema, pageOf } from './schemas.js';

export const deviceRoutes: FastifyPluginAsyncTypebox<{ registry: DeviceRegistry }> = async (app, { registry }) => {
  app.get('/devices', {
    schema: { querystring: Type.Object({ ...CursorQuery }), response: { 200: pageOf(DeviceSchema) } },
  }, async (request) => {
    const limit = request.query.limit ?? 1000;
    const after = request.query.cursor ? Buffer.from(request.query.cursor, 'base64url').toString('utf8') : '';
    const all = registry.list().filter((d) => d.deviceId > after);
    const items = all.slice(0, limit);
    const nextCursor = all.length > limit ? Buffer.from(items[items.length - 1].deviceId, 'utf8').toString('base64url') : null;
    return { items, nextCursor };
  });

  app.get('/devices/:id', {
    schema: { params: Type.Object({ id: DeviceIdParam }), response: { 200: DeviceSchema, 404: ErrorSchema } },
  }, async (request) => {
    const device = registry.get(request.params.id);
    if (!device) throw new NotFoundError('device', request.params.id);
    return device;
  });
};
