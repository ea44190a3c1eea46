import { join } from 'node:path';
import Fastify, { LogController } from 'fastify';
import swagger from '@fastify/swagger';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { pino } from 'pino';
import { sessionRoutes } from '../../daemon/api/routes-sessions.js';
import { apiErrorHandler } from '../../daemon/api/error-handler.js';
import { ReadingStore } from '../../daemon/store/reading-store.js';
import { openSessions, type SessionFixture } from './helpers.js';

export interface ApiFixture {
  app: ReturnType<typeof buildSessionApp>;
  store: ReadingStore;
  sessions: SessionFixture;
  close(): Promise<void>;
}

/**
 * A small app configured like daemon/api/app.ts's buildApp (TypeBox validation, the same error mapping, the
 * same body limit, OpenAPI), with only the session routes, registered as the composition root is asked to:
 * under /api/v1, given the session service and the reading store. Once the hub wires them in, these tests
 * can run against test/helpers/hub.ts instead.
 */
function buildSessionApp() {
  const app = Fastify({
    loggerInstance: pino({ level: 'silent' }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  app.setErrorHandler(apiErrorHandler);
  return app;
}

export async function openApi(): Promise<ApiFixture> {
  const sessions = await openSessions();
  const store = new ReadingStore({ dir: join(sessions.dataDir, 'db'), log: pino({ level: 'silent' }), clock: sessions.clock, retention: sessions.service.retentionPolicy });
  await store.open();
  const app = buildSessionApp();
  await app.register(swagger, { openapi: { openapi: '3.0.3', info: { title: 'sessions test', version: '0' } } });
  await app.register(sessionRoutes, { prefix: '/api/v1', sessions: sessions.service, store });
  await app.ready();
  return {
    app,
    store,
    sessions,
    async close() {
      await app.close();
      await store.close();
      await sessions.close();
    },
  };
}
