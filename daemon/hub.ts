import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { Codec } from '../drivers/codec/codec.js';
import type { Driver, DriverDeps, DriverStatus } from '../drivers/driver.js';
import { buildApp, type App } from './api/app.js';
import { generateToken, hashToken } from './api/auth.js';
import type { Health } from './api/schemas.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import { DeviceAdmin } from './device-admin.js';
import { DeviceRegistry } from './device-registry.js';
import { EventBus } from './event-bus.js';
import { hubMetrics } from './hub-metrics.js';
import { EventLoopLag } from './metrics.js';
import { IngestPipeline } from './pipeline.js';
import { openState, type HubState } from './state.js';
import { AutoSessions } from './sessions/auto-sessions.js';
import { PredictionStore } from './recognition/prediction-store.js';
import { RecognitionService, type ModelStatus } from './recognition/recognition-service.js';
import { loadBundledModel } from '../models/load-model.js';
import { ModelRegistry } from '../models/registry.js';
import { SessionService } from './sessions/session-service.js';
import { ReadingStore } from './store/reading-store.js';
import { VERSION } from './version.js';
import { startMdns } from './mdns.js';
import { createDrivers, type DriverSet } from './drivers.js';
import { SYNC_OFF, SyncService } from '../sync/sync-service.js';
import { syncHealth, syncMetricFamilies } from '../sync/sync-report.js';
import type { SyncApi, SyncStatus } from '../sync/sync-types.js';
import { ModelPuller } from '../sync/model-pull.js';

export interface HubOptions {
  config: Readonly<Config>;
  log: Logger;
  clock: Clock;
}

export interface Hub {
  readonly app: App;
  readonly hubId: string;
  /** Stored readings, predictions, reps, sessions and device events, for in-process listeners (demo, tests). */
  readonly bus: EventBus;
  /** The API's address once listening (port 0 in the config picks a free one). */
  readonly address: { host: string; port: number };
  health(): Health;
  /** One-line summary for systemd's STATUS=. */
  statusLine(): string;
  /** Pulls published models from the cloud (SPEC section 9); undefined when sync is off. */
  readonly modelPull?: ModelPuller;
  stop(): Promise<void>;
}

/**
 * The one composition root (STYLE rule 2): builds store, codec, drivers, pipeline and API once, starts them in
 * order, and stops them in reverse, each step on its own so one failure does not skip the rest.
 */
export async function startHub({ config, log, clock }: HubOptions): Promise<Hub> {
  const startedAt = clock.now();
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o750 });
  const stops: Array<{ name: string; stop: () => Promise<void> }> = [];
  const stop = async () => {
    for (const step of stops.reverse()) {
      try {
        await step.stop();
      } catch (err) {
        log.error({ err, component: step.name }, 'stop failed');
      }
    }
    stops.length = 0;
  };

  try {
    const state = await openState(dataDir);
    const tokenHash = await resolveApiToken(config, state, dataDir, log);

    const bus = new EventBus(log.child({ component: 'bus' }));
    // Sessions validate candidates against the active model's classes; recognition needs sessions: the closure
    // above breaks the cycle.
    let recognition: RecognitionService | undefined;
    const sessions = new SessionService({
      dir: join(dataDir, 'sessions'),
      log: log.child({ component: 'sessions' }),
      clock,
      bus,
      knownClasses: () => recognition?.classes() ?? [],
      devices: state,
    });
    const store = new ReadingStore({
      dir: join(dataDir, 'db'),
      log: log.child({ component: 'store' }),
      clock,
      maxBytes: config.storage.maxBytes,
      hardMaxBytes: config.storage.hardMaxBytes,
      retention: sessions.retentionPolicy,
    });
    await store.open();
    stops.push({ name: 'store', stop: () => store.close() });
    await sessions.open();
    stops.push({ name: 'sessions', stop: () => sessions.close() });

    const predictions = new PredictionStore({
      dir: join(dataDir, 'predictions'),
      log: log.child({ component: 'predictions' }),
      clock,
      retentionMs: config.recognition.predictionRetentionDays * 86_400_000,
    });
    await predictions.open();
    stops.push({ name: 'predictions', stop: () => predictions.close() });
    const models = new ModelRegistry({ dataDir, loadBundled: loadBundledModel, now: () => clock.now() });
    const liveRecognition = new RecognitionService({
      bus,
      sessions,
      registry: models,
      predictions,
      readings: store,
      log: log.child({ component: 'recognition' }),
      clock,
      overlap: config.recognition.overlap,
      training: { useWorker: config.recognition.trainInWorker, maxTrainWindows: config.recognition.maxTrainWindows },
    });
    recognition = liveRecognition;
    await liveRecognition.start();
    stops.push({ name: 'recognition', stop: () => liveRecognition.stop() });

    const codec = new Codec({ clock, log: log.child({ component: 'codec' }) });
    const registry = new DeviceRegistry(clock, (id) => codec.deviceCounters(id), (id) => state.isPaired(id));
    for (const reading of store.latestAll()) registry.seed(reading.deviceId, reading.ts);
    const pipeline = new IngestPipeline(store, registry, bus);

    const driverDeps: Omit<DriverDeps, 'log'> = {
      codec,
      sink: pipeline,
      clock,
      onDeviceInfo: (deviceId, transport, info) => {
        registry.recordInfo(deviceId, transport, info);
        bus.emit('device', { deviceId, transport, info });
      },
    };
    const drivers: DriverSet = createDrivers({ config, state, deps: driverDeps, log, hubId: state.hubId });
    const syncService = config.sync.postgresUrl
      ? new SyncService({
        url: config.sync.postgresUrl,
        hubId: state.hubId,
        sessions,
        readings: store,
        bus,
        clock,
        log: log.child({ component: 'sync' }),
        version: VERSION,
        chunkReadings: config.sync.chunkReadings,
      })
      : undefined;
    const sync: SyncApi = syncService ?? SYNC_OFF;
    const modelPull = config.sync.postgresUrl
      ? new ModelPuller({
        postgresUrl: config.sync.postgresUrl,
        registry: models,
        activate: (version) => liveRecognition.activate(version),
        sessions,
        readings: store,
        clock,
        log: log.child({ component: 'model-pull' }),
        stateFile: join(dataDir, 'model-pull.json'),
        pollIntervalMs: config.sync.modelPollS * 1000,
      })
      : undefined;

    const health = (): Health => buildHealth({ startedAt, clock, hubId: state.hubId, store, drivers, model: liveRecognition.status(), sync: sync.status() });
    const lag = new EventLoopLag();
    lag.start();
    stops.push({ name: 'event-loop-lag', stop: async () => lag.stop() });
    const app = await buildApp({
      log: log.child({ component: 'api' }),
      clock,
      tokenHash,
      refreshTokenHash: () => state.refreshTokenHash(),
      store,
      registry,
      codec,
      sink: pipeline,
      health,
      bodyLimitBytes: config.http.bodyLimitBytes,
      failedAuthPerMinute: config.http.failedAuthPerMinute,
      corsOrigins: config.http.corsOrigins,
      ingestReadingsPerS: config.http.ingestReadingsPerS,
      predictReadingsPerS: config.http.predictReadingsPerS,
      version: VERSION,
      metrics: () => hubMetrics({ codec, pipeline, store, registry, lag, extra: () => (syncService ? syncMetricFamilies(syncService.status()) : []) }),
      devices: new DeviceAdmin(state, drivers, registry, codec, () => [...liveRecognition.classes()]),
      discoveredBle: () => drivers.ble?.discovered() ?? [],
      bus,
      sessions,
      recognition: liveRecognition,
      info: () => {
        const model = liveRecognition.status();
        const stateOf = (driver: Driver | undefined) => (driver ? driver.status().state : 'off');
        return {
          hubId: state.hubId,
          version: VERSION,
          apiVersion: 1 as const,
          transports: { mqtt: stateOf(drivers.mqtt), serial: stateOf(drivers.serial), ble: stateOf(drivers.ble), http: 'on' as const },
          mqttPrefix: config.mqtt.prefix,
          model: { version: model.version, classes: [...liveRecognition.classes()] },
        };
      },
      predictBodyLimitBytes: config.recognition.predictBodyLimitBytes,
      sync,
      modelPull: () => modelPull?.status() ?? null,
    });
    const stopWatchingToken = state.watchTokenHash({
      onChange: () => log.info('the API token was rotated (gymhub token): the previous one no longer works'),
      onError: (err) => log.warn({ err }, 'cannot watch state.json: a rotated API token is taken at the next failed authentication'),
    });
    stops.push({ name: 'token-watch', stop: async () => stopWatchingToken() });
    await app.listen({ host: config.http.host, port: config.http.port });
    stops.push({
      name: 'api',
      // Fastify's close waits for requests in flight, and a training request can run for minutes.
      stop: async () => {
        await liveRecognition.cancelTraining();
        await app.close();
      },
    });
    const addressInfo = app.server.address();
    const address = typeof addressInfo === 'object' && addressInfo ? { host: addressInfo.address, port: addressInfo.port } : { host: config.http.host, port: config.http.port };

    if (config.sessions.auto) {
      const auto = new AutoSessions({ sessions, bus, clock, log: log.child({ component: 'auto-sessions' }), stillS: config.sessions.autoStillS });
      auto.start();
      stops.push({ name: 'auto-sessions', stop: async () => auto.stop() });
    }
    for (const driver of drivers.all) {
      await driver.start();
      stops.push({ name: driver.transport, stop: () => driver.stop() });
    }
    // A loopback-only API (tests, benches, gymhub demo) has nobody on the LAN to find it.
    if (config.mdns.enabled && !isLoopback(address.host)) {
      const mdns = await startMdns({ port: address.port, hubId: state.hubId, log: log.child({ component: 'mdns' }), txt: { version: VERSION } });
      stops.push({ name: 'mdns', stop: () => mdns.stop() });
    }
    if (syncService) {
      // Stopped first: an upload in flight is abandoned (it is idempotent) while sessions and store are still open.
      syncService.start();
      stops.push({ name: 'sync', stop: () => syncService.stop() });
    }
    if (modelPull) {
      modelPull.start();
      stops.push({ name: 'model-pull', stop: () => modelPull.stop() });
    }
    const mqttStatus = drivers.mqtt?.status();
    log.info({ hubId: state.hubId, version: VERSION, api: address, mqtt: mqttStatus && { state: mqttStatus.state, port: mqttStatus.port }, dataDir }, 'gymhub ready');

    return {
      app,
      hubId: state.hubId,
      bus,
      address,
      modelPull,
      health,
      statusLine: () => {
        const stats = store.stats();
        const devices = registry.list().filter((d) => d.rate > 0).length;
        const rate = registry.list().reduce((sum, d) => sum + d.rate, 0);
        return `${devices} devices streaming, ${Math.round(rate)} readings/s, ${stats.pendingReadings} readings pending`;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}


/**
 * GYMHUB_API_TOKEN / api.token wins; else the stored hash; else a fresh token, whose plain text is written once to
 * <dataDir>/api-token (mode 0600) for the installer to read: it never goes to the log.
 */
async function resolveApiToken(config: Readonly<Config>, state: HubState, dataDir: string, log: Logger): Promise<() => string> {
  if (config.api.token) {
    const hash = hashToken(config.api.token);
    if (state.tokenHash() !== hash) await state.setTokenHash(hash);
  } else if (!state.tokenHash()) {
    const token = generateToken();
    const file = join(dataDir, 'api-token');
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    await state.setTokenHash(hashToken(token));
    log.warn({ file }, 'generated an API token; read it from this file (it is not logged) and keep it safe');
  }
  return () => state.tokenHash()!;
}

interface HealthInputs {
  model: ModelStatus;
  startedAt: number;
  clock: Clock;
  hubId: string;
  store: ReadingStore;
  drivers: DriverSet;
  sync: SyncStatus;
}

const UNHEALTHY_DRIVER_STATES = new Set(['error', 'connecting']);

function buildHealth({ startedAt, clock, hubId, store, drivers, model, sync }: HealthInputs): Health {
  const stats = store.stats();
  const unusable = !stats.open || stats.writeError !== null;
  const storeComponent = {
    state: unusable ? 'error' : stats.overHardLimit ? 'full' : 'ok',
    detail: unusable
      ? `store unusable: ${stats.writeError ?? 'closed'}`
      : stats.overHardLimit ? 'storage.hardMaxBytes reached: ingestion is refused until space is freed' : undefined,
    bytes: stats.bytes,
    readings: stats.readings,
    pendingReadings: stats.pendingReadings,
  };
  const driverComponent = (driver: Driver | undefined, offDetail: string): DriverStatus => (driver ? driver.status() : { state: 'off', detail: offDetail });
  const components = {
    store: storeComponent,
    mqtt: driverComponent(drivers.mqtt, 'GYMHUB_MQTT_URL=off'),
    serial: driverComponent(drivers.serial, 'GYMHUB_SERIAL=off'),
    ble: driverComponent(drivers.ble, 'GYMHUB_BLE=off'),
    sync: syncHealth(sync, clock.now()),
    model,
  };
  const degraded = unusable || stats.overHardLimit || model.state !== 'ok' || components.sync.state === 'degraded' || [components.mqtt, components.serial, components.ble].some((c) => UNHEALTHY_DRIVER_STATES.has(c.state));
  return {
    status: degraded ? 'degraded' : 'ok',
    version: VERSION,
    hubId,
    uptimeS: Math.round((clock.now() - startedAt) / 1000),
    components,
  } as Health;
}

function isLoopback(host: string): boolean {
  return host === '::1' || host.startsWith('127.') || host === 'localhost';
}
