import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HealthSchema, type Health } from './schemas.js';

/** GET /health: no token; 503 when the store is unusable. */
export const healthRoutes: FastifyPluginAsyncTypebox<{ health: () => Health }> = async (app, { health }) => {
  app.get('/health', { schema: { description: 'Hub health; no token needed. 503 when the store is unusable.', security: [], response: { 200: HealthSchema, 503: HealthSchema } } }, async (_request, reply) => {
    const body = health();
    return reply.code(body.components.store.state === 'error' ? 503 : 200).send(body);
  });
};
