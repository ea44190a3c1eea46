import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';

/** GET /metrics: Prometheus text format, no token (like /health). */
export const metricsRoutes: FastifyPluginAsyncTypebox<{ metrics: () => string }> = async (app, { metrics }) => {
  app.get('/metrics', {
    schema: { description: 'Prometheus text format: readings in/rejected per transport, store bytes, backlog, predictions, event-loop lag.', security: [], response: { 200: Type.String() } },
  }, async (_request, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(metrics()));
};
