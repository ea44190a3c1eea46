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
    sync: Type.Object(
      {
        postgresUrl: Type.Optional(Type.String({ minLength: 1 })),
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
