import Type, { type Static, type TSchema } from 'typebox';

/** TypeBox schemas: the one source for the API's validation, types and OpenAPI document. */

export const Vec3Schema = Type.Tuple([Type.Number(), Type.Number(), Type.Number()]);

export const ReadingSchema = Type.Object({
  deviceId: Type.String(),
  ts: Type.Number({ description: 'ms since the epoch, hub clock' }),
  seq: Type.Optional(Type.Integer({ minimum: 0 })),
  accel: Vec3Schema,
  gyro: Vec3Schema,
  mag: Type.Optional(Vec3Schema),
  temp: Type.Optional(Type.Number()),
});

export const ErrorSchema = Type.Object({
  error: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Unknown()),
});

export const DeviceIdParam = Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' });

export function pageOf<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
}

export const TimeRangeQuery = {
  from: Type.Optional(Type.Number({ minimum: 0, description: 'ms since the epoch, inclusive' })),
  to: Type.Optional(Type.Number({ minimum: 0, description: 'ms since the epoch, exclusive' })),
};

export const CursorQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
};

export const DeviceSchema = Type.Object({
  deviceId: Type.String(),
  transport: Type.Union([Type.String(), Type.Null()]),
  firstSeen: Type.Union([Type.Number(), Type.Null()]),
  lastSeen: Type.Union([Type.Number(), Type.Null()]),
  rate: Type.Number({ description: 'readings/s over the last 10 s' }),
  readings: Type.Integer({ description: 'readings stored since the hub started' }),
  dropped: Type.Integer({ description: 'samples lost according to the device counter' }),
  duplicates: Type.Integer(),
  rejected: Type.Integer(),
  battery: Type.Union([Type.Number(), Type.Null()]),
  fw: Type.Union([Type.String(), Type.Null()]),
  hz: Type.Union([Type.Number(), Type.Null()]),
  online: Type.Union([Type.Boolean(), Type.Null()]),
  paired: Type.Boolean(),
});

export const ComponentSchema = Type.Object({ state: Type.String(), detail: Type.Optional(Type.String()) }, { additionalProperties: true });

export const HealthSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  version: Type.String(),
  hubId: Type.String(),
  uptimeS: Type.Number(),
  components: Type.Object({
    store: ComponentSchema,
    mqtt: ComponentSchema,
    serial: ComponentSchema,
    ble: ComponentSchema,
    sync: ComponentSchema,
    model: ComponentSchema,
  }),
});

export const IngestResultSchema = Type.Object({
  accepted: Type.Integer(),
  rejected: Type.Integer(),
  duplicates: Type.Integer(),
  errors: Type.Optional(Type.Array(Type.Object({ reason: Type.String(), message: Type.String(), index: Type.Optional(Type.Integer()) }))),
});

export type ReadingBody = Static<typeof ReadingSchema>;
export interface ComponentStatus {
  state: string;
  detail?: string;
  [key: string]: unknown;
}
export type Health = Omit<Static<typeof HealthSchema>, 'components'> & {
  components: Record<'store' | 'mqtt' | 'serial' | 'ble' | 'sync' | 'model', ComponentStatus>;
};
