import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { DiscoveredBleDevice } from '../../drivers/ble/ble-events.js';
import type { DeviceAdmin } from '../device-admin.js';
import type { DeviceRegistry } from '../device-registry.js';
import { BadRequestError, NotFoundError } from '../errors.js';
import { isDeviceId } from '../../drivers/reading.js';
import { CursorQuery, DeviceIdParam, DeviceSchema, ErrorSchema, pageOf } from './schemas.js';

export const deviceRoutes: FastifyPluginAsyncTypebox<{ registry: DeviceRegistry }> = async (app, { registry }) => {
  app.get('/devices', {
    schema: { querystring: Type.Object({ ...CursorQuery }), response: { 200: pageOf(DeviceSchema) } },
  }, async (request) => {
    const limit = request.query.limit ?? 1000;
    const after = request.query.cursor === undefined ? '' : decodeDeviceCursor(request.query.cursor);
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

const TransportSchema = Type.Union([Type.Literal('ble'), Type.Literal('serial'), Type.Literal('mqtt'), Type.Literal('http')]);
const ExerciseName = Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' });

export const PairedDeviceSchema = Type.Object({
  deviceId: Type.String(),
  transport: TransportSchema,
  address: Type.Optional(Type.String()),
  pairedAt: Type.Number(),
  candidates: Type.Optional(Type.Array(Type.String())),
});

export const CommandSchema = Type.Union([
  Type.Object({ cmd: Type.Union([Type.Literal('start'), Type.Literal('stop'), Type.Literal('identify')]) }, { additionalProperties: false }),
  Type.Object({ cmd: Type.Literal('rate'), hz: Type.Integer({ minimum: 1, maximum: 1000 }) }, { additionalProperties: false }),
]);

/** Pairing, forgetting and commanding devices. */
export const deviceAdminRoutes: FastifyPluginAsyncTypebox<{ admin: DeviceAdmin; discovered: () => DiscoveredBleDevice[] }> = async (app, { admin, discovered }) => {
  app.post('/devices/pair', {
    schema: {
      description: 'Pairs a device: BLE by deviceId or address (the hub then connects to it); other transports record the device as trusted, with default candidate exercises for its station.',
      body: Type.Object({
        transport: TransportSchema,
        deviceId: Type.Optional(DeviceIdParam),
        address: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
        candidates: Type.Optional(Type.Array(ExerciseName, { minItems: 1, maxItems: 16, uniqueItems: true })),
      }, { additionalProperties: false }),
      response: { 201: PairedDeviceSchema, 400: ErrorSchema, 409: ErrorSchema },
    },
  }, async (request, reply) => reply.code(201).send(await admin.pair(request.body)));

  app.get('/devices/discovered', {
    schema: {
      description: 'BLE devices advertising the gymhub service that are not paired yet.',
      response: { 200: pageOf(Type.Object({ id: Type.String(), address: Type.String(), localName: Type.Optional(Type.String()), rssi: Type.Number(), lastSeen: Type.Number() })) },
    },
  }, async () => ({ items: discovered(), nextCursor: null }));

  app.delete('/devices/:id', {
    schema: { description: 'Unpairs and forgets a device (its stored readings stay).', params: Type.Object({ id: DeviceIdParam }), response: { 204: Type.Null(), 404: ErrorSchema } },
  }, async (request, reply) => {
    await admin.forget(request.params.id);
    return reply.code(204).send(null);
  });

  app.post('/devices/:id/commands', {
    schema: {
      description: 'Sends {"cmd":"start"|"stop"|"identify"} or {"cmd":"rate","hz":N} to the device over MQTT, serial or BLE.',
      params: Type.Object({ id: DeviceIdParam }),
      body: CommandSchema,
      response: { 202: Type.Object({ sent: Type.Boolean(), transport: Type.String() }), 404: ErrorSchema, 409: ErrorSchema },
    },
  }, async (request, reply) => {
    const { transport } = await admin.command(request.params.id, request.body);
    return reply.code(202).send({ sent: true, transport });
  });
};

/** A cursor is the base64url of the last deviceId of the previous page; anything else is a client's mistake. */
function decodeDeviceCursor(cursor: string): string {
  const deviceId = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isDeviceId(deviceId) || Buffer.from(deviceId, 'utf8').toString('base64url') !== cursor) throw new BadRequestError('invalid cursor', undefined, 'bad_cursor');
  return deviceId;
}
