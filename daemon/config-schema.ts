import Type, { type Static } from 'typebox';

const GIB = 1024 ** 3;

/** The one source for the configuration's shape, defaults and validation (SPEC section 10). */
export const ConfigSchema = Type.Object(
  {
    dataDir: Type.String({ minLength: 1, description: 'data directory (LevelDB, state.json, models)' }),
    http: Type.Object(
      {
        host: Type.String({ minLength: 1, default: '0.0.0.0' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
        bodyLimitBytes: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024, default: 1024 * 1024 }),
        failedAuthPerMinute: Type.Integer({ minimum: 1, maximum: 100_000, default: 20, description: 'failed authentications from one address per minute before it gets 429s' }),
        corsOrigins: Type.Array(Type.String({ pattern: '^https?://[^/\\s]+$', description: 'an exact origin, e.g. https://app.example.com or http://192.168.1.20:3000' }), {
          uniqueItems: true,
          default: [],
          description: 'browser origins allowed to call the API cross-origin (CORS); empty: no CORS headers at all',
        }),
        ingestReadingsPerS: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 500_000, description: 'readings per second one address may POST to /api/v1/readings (a second of it saved up); over it: 429 with Retry-After. The default is above what a hub can store, a ceiling against a runaway client' }),
        predictReadingsPerS: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 50_000, description: 'readings per second one address may send to POST /api/v1/predict (a second of it saved up); over it: 429 with Retry-After' }),
      },
      { additionalProperties: false, default: {} },
    ),
    api: Type.Object(
      {
        token: Type.Optional(Type.String({ minLength: 16, description: 'API bearer token; generated at first start when unset' })),
      },
      { additionalProperties: false, default: {} },
    ),
    mqtt: Type.Object(
      {
        url: Type.String({ minLength: 1, default: 'mqtt://127.0.0.1:1883', description: "broker URL, or 'off'" }),
        prefix: Type.String({ pattern: '^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$', default: 'gymhub' }),
        clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        embeddedPort: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'start the embedded broker on this port' })),
        embeddedHost: Type.String({ minLength: 1, default: '0.0.0.0' }),
      },
      { additionalProperties: false, default: {} },
    ),
    serial: Type.Object(
      {
        ports: Type.Union([Type.Literal('auto'), Type.Literal('off'), Type.Array(Type.String({ minLength: 1 }))], { default: 'auto' }),
        baudRate: Type.Integer({ minimum: 300, maximum: 4_000_000, default: 115200 }),
      },
      { additionalProperties: false, default: {} },
    ),
    ble: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        autoPair: Type.Boolean({ default: false }),
      },
      { additionalProperties: false, default: {} },
    ),
    storage: Type.Object(
      {
        maxBytes: Type.Integer({ minimum: 1024 * 1024, default: 2 * GIB }),
        hardMaxBytes: Type.Optional(Type.Integer({ minimum: 1024 * 1024 })),
      },
      { additionalProperties: false, default: {} },
    ),
    recognition: Type.Object(
      {
        overlap: Type.Optional(Type.Number({ minimum: 0, maximum: 0.9, description: "live window overlap; the model's (0.5) when unset" })),
        predictionRetentionDays: Type.Number({ minimum: 0.01, maximum: 3650, default: 7 }),
        trainInWorker: Type.Boolean({ default: true }),
        maxTrainWindows: Type.Integer({ minimum: 100, maximum: 1_000_000, default: 20_000, description: 'bounds on-hub training memory (~4 KB a window); about 5000 on a Pi Zero' }),
        predictBodyLimitBytes: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024, default: 4 * 1024 * 1024 }),
      },
      { additionalProperties: false, default: {} },
    ),
    sessions: Type.Object(
      {
        auto: Type.Boolean({ default: false, description: 'open a session when a device starts moving and end it after autoStillS of stillness' }),
        autoStillS: Type.Integer({ minimum: 5, maximum: 3600, default: 30 }),
      },
      { additionalProperties: false, default: {} },
    ),
    mdns: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'advertise the API as _gymhub._tcp (with the hubId) so the app finds the hub' }),
      },
      { additionalProperties: false, default: {} },
    ),
    sync: Type.Object(
      {
        postgresUrl: Type.Optional(Type.String({ minLength: 1 })),
        chunkReadings: Type.Integer({ minimum: 100, maximum: 100_000, default: 10_000, description: 'readings per COPY into Postgres (one transaction each)' }),
        modelPollS: Type.Integer({ minimum: 10, maximum: 7 * 86_400, default: 900, description: 'how often the hub looks for a newer published model in the cloud' }),
      },
      { additionalProperties: false, default: {} },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
          { default: 'info' },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
