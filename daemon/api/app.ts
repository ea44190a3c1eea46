import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import cors from '@fastify/cors';
import { corsOptions } from './cors.js';
import { apiValidatorCompiler } from './validator.js';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Codec } from '../../drivers/codec/codec.js';
import type { ReadingSink } from '../../drivers/driver.js';
import type { Reading } from '../../drivers/reading.js';
import type { DeviceRegistry } from '../device-registry.js';
import { apiErrorHandler } from './error-handler.js';
import { bearerMatches, FailedAuthLimiter } from './auth.js';
import { RateLimiter } from './rate-limit.js';
import { apiMetricFamilies } from './api-metrics.js';
import { renderPrometheus } from '../metrics.js';
import type { Health } from './schemas.js';
import { healthRoutes, infoRoutes, type Info } from './routes-health.js';
import { readingRoutes } from './routes-readings.js';
import { deviceAdminRoutes, deviceRoutes } from './routes-devices.js';
import type { DeviceAdmin } from '../device-admin.js';
import type { DiscoveredBleDevice } from '../../drivers/ble/ble-events.js';
import { metricsRoutes } from './routes-metrics.js';
import { streamRoutes } from './routes-stream.js';
import { dashboardRoutes } from './routes-dashboard.js';
import { sessionRoutes } from './routes-sessions.js';
import { mlRoutes, type MlApi } from './routes-ml.js';
import type { SessionService } from '../sessions/session-service.js';
import type { EventBus } from '../event-bus.js';
import type { SyncApi } from '../../sync/sync-types.js';
import type { ModelPullStatus } from '../../sync/model-pull.js';
import { syncRoutes } from './routes-sync.js';

/** The store as the API sees it (the read side plus nothing more). */
export interface ApiStore {
  read(query: { deviceId?: string; from?: number; to?: number; limit: number; cursor?: string }): Promise<{ items: Reading[]; nextCursor: string | null }>;
  latest(deviceId: string): Reading | undefined;
  latestAll(): Reading[];
  iterate(deviceId: string, from?: number, to?: number): AsyncIterable<Reading[]>;
}

export interface ApiDeps {
  log: Logger;
  clock: Clock;
  /** The current API token's SHA-256 digest (a function: `gymhub token` may rotate it). */
  tokenHash: () => string;
  /** Re-reads a token hash rotated by another process (`gymhub token`); true when it changed. */
  refreshTokenHash?: () => Promise<boolean>;
  store: ApiStore;
  registry: DeviceRegistry;
  codec: Codec;
  sink: ReadingSink;
  health: () => Health;
  bodyLimitBytes: number;
  failedAuthPerMinute: number;
  /** Exact browser origins allowed cross-origin; empty: no CORS headers at all. */
  corsOrigins: readonly string[];
  /** Per client address: readings/s into POST /readings and POST /predict (429 with Retry-After over it). */
  ingestReadingsPerS: number;
  predictReadingsPerS: number;
  version: string;
  /** The Prometheus text for /metrics. */
  metrics: () => string;
  devices: DeviceAdmin;
  bus: EventBus;
  discoveredBle: () => DiscoveredBleDevice[];
  sessions: SessionService;
  info: () => Info;
  recognition: MlApi;
  predictBodyLimitBytes: number;
  /** Cloud sync (SYNC_OFF when sync.postgresUrl is unset). */
  sync: SyncApi;
  /** The hub's pull of published cloud models; null when sync is off. */
  modelPull: () => ModelPullStatus | null;
}

export type App = FastifyInstance<any, any, any, any, TypeBoxTypeProvider>;

/** Builds the LAN API without listening (fastify's buildApp pattern); tests use `app.inject()`. */
export async function buildApp(deps: ApiDeps): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.log,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimitBytes,
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(apiValidatorCompiler);

  if (deps.corsOrigins.length > 0) await app.register(cors, corsOptions(deps.corsOrigins));
  app.setErrorHandler(apiErrorHandler);
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` }));

  // Before the auth hook: its onRequest hook marks upgrade requests, so that a refused upgrade (401, 429) has
  // its socket closed after the answer instead of left half-open, which would also keep close() waiting.
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  const limiter = new FailedAuthLimiter(deps.clock, deps.failedAuthPerMinute);
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/')) return;
    if (limiter.blocked(request.ip)) {
      limiter.refused++;
      return reply.code(429).send({ error: 'too_many_failed_auth', message: 'too many failed authentications; try again later' });
    }
    const queryToken = (request.query as { token?: unknown } | undefined)?.token;
    const header = request.headers.authorization ?? (typeof queryToken === 'string' && request.routeOptions.url === '/api/v1/stream' ? `Bearer ${queryToken}` : undefined);
    // `gymhub token` may have rotated the token a moment ago: the state watch adopts it at once, and this
    // covers a host where watching does not work.
    if (!bearerMatches(header, deps.tokenHash()) && !((await deps.refreshTokenHash?.()) && bearerMatches(header, deps.tokenHash()))) {
      limiter.recordFailure(request.ip);
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'missing or invalid bearer token' });
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'gymhub LAN API', version: deps.version, description: 'The hub API the gym app builds on (SPEC section 8).' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(healthRoutes, { health: deps.health });
  const ingestLimiter = new RateLimiter(deps.clock, { ratePerS: deps.ingestReadingsPerS, burst: deps.ingestReadingsPerS, what: 'readings' });
  const predictLimiter = new RateLimiter(deps.clock, { ratePerS: deps.predictReadingsPerS, burst: deps.predictReadingsPerS, what: 'readings to predict' });
  const apiMetrics = () => renderPrometheus(apiMetricFamilies({ ingest: ingestLimiter, predict: predictLimiter, failedAuth: limiter }));
  await app.register(metricsRoutes, { metrics: () => deps.metrics() + apiMetrics() });
  await app.register(readingRoutes, { prefix: '/api/v1', store: deps.store, codec: deps.codec, sink: deps.sink, clock: deps.clock, limiter: ingestLimiter });
  await app.register(deviceRoutes, { prefix: '/api/v1', registry: deps.registry });
  await app.register(infoRoutes, { prefix: '/api/v1', info: deps.info });
  await app.register(sessionRoutes, { prefix: '/api/v1', sessions: deps.sessions, store: deps.store });
  await app.register(mlRoutes, { prefix: '/api/v1', recognition: deps.recognition, predictBodyLimitBytes: deps.predictBodyLimitBytes, limiter: predictLimiter });
  await app.register(streamRoutes, { prefix: '/api/v1', bus: deps.bus });
  await app.register(deviceAdminRoutes, { prefix: '/api/v1', admin: deps.devices, discovered: deps.discoveredBle });
  await app.register(syncRoutes, { prefix: '/api/v1', sync: deps.sync, modelPull: deps.modelPull });
  await app.register(dashboardRoutes, { hasRoute: (method, url) => app.hasRoute({ method, url }) });
  return app;
}
