import Type, { type Static } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HealthSchema, type Health } from './schemas.js';

/** GET /health: no token; 503 when the store is unusable. */
export const healthRoutes: FastifyPluginAsyncTypebox<{ health: () => Health }> = async (app, { health }) => {
  app.get('/health', { schema: { description: 'Hub health; no token needed. 503 when the store is unusable.', security: [], response: { 200: HealthSchema, 503: HealthSchema } } }, async (_request, reply) => {
    const body = health();
    return reply.code(body.components.store.state === 'error' ? 503 : 200).send(body);
  });
};

export const InfoSchema = Type.Object({
  hubId: Type.String(),
  version: Type.String(),
  apiVersion: Type.Literal(1),
  transports: Type.Object({ mqtt: Type.String(), serial: Type.String(), ble: Type.String(), http: Type.Literal('on') }),
  mqttPrefix: Type.String(),
  model: Type.Object({ version: Type.Union([Type.String(), Type.Null()]), classes: Type.Array(Type.String()) }),
});

export type Info = Static<typeof InfoSchema>;

/** GET /api/v1/info: what an app needs to know about this hub to talk to it. */
export const infoRoutes: FastifyPluginAsyncTypebox<{ info: () => Info }> = async (app, { info }) => {
  app.get('/info', { schema: { description: 'The hub: identity, version, transports, MQTT topic prefix, the active model and its classes.', response: { 200: InfoSchema } } }, async () => info());
};
