import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { WebSocket } from 'ws';
import type { Reading } from '../../drivers/reading.js';
import type { EventBus } from '../event-bus.js';
import { ErrorSchema } from './schemas.js';

/** A client whose socket holds more than this unsent is slow: messages are dropped (and counted) for it. */
export const STREAM_MAX_BUFFERED_BYTES = 1024 * 1024;
export const STREAM_TOPICS = ['readings', 'predictions', 'reps', 'devices', 'sessions', 'sync'] as const;
type Topic = (typeof STREAM_TOPICS)[number];

let connections = 0;

/**
 * GET /api/v1/stream (WebSocket): stored readings (decimated on request), predictions, reps, device and
 * session events as JSON messages `{type, ...}`, filtered by deviceId. Browsers cannot set headers on a
 * WebSocket, so the token may also come as `?token=` (checked by the auth hook like the header).
 */
export const streamRoutes: FastifyPluginAsyncTypebox<{ bus: EventBus }> = async (app, { bus }) => {
  app.route({
    method: 'GET',
    url: '/stream',
    schema: {
      description: 'WebSocket of live events. Messages: {type:"readings", deviceId, items}, {type:"prediction", ...}, {type:"reps", deviceId, sessionId?, reps, ts}, {type:"device", ...}, {type:"session", event, session}, {type:"sync", event:"state"|"progress"|"session", ...}, {type:"dropped", count} when the client reads too slowly.',
      querystring: Type.Object({
        deviceId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}(,[A-Za-z0-9_.:-]{1,64})*$', description: 'one device, or several comma-separated' })),
        topics: Type.Optional(Type.String({ pattern: `^(${STREAM_TOPICS.join('|')})(,(${STREAM_TOPICS.join('|')}))*$`, description: `comma-separated subset of ${STREAM_TOPICS.join(', ')} (default all)` })),
        readingsHz: Type.Optional(Type.Number({ minimum: 0.1, maximum: 1000, description: 'at most this many readings per second per device (default: every reading)' })),
        token: Type.Optional(Type.String({ description: 'the API token, for clients that cannot set the Authorization header' })),
      }),
      response: { 426: ErrorSchema },
    },
    // A plain GET (no Upgrade header): said plainly, in the API's error shape.
    handler: async (_request, reply) => reply.code(426).header('upgrade', 'websocket').send({ error: 'upgrade_required', message: 'this is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)' }),
    wsHandler: (socket: WebSocket, request) => {
      const query = request.query as { deviceId?: string; topics?: string; readingsHz?: number };
      const devices = query.deviceId ? new Set(query.deviceId.split(',')) : undefined;
      const topics = new Set<Topic>(query.topics ? (query.topics.split(',') as Topic[]) : STREAM_TOPICS);
      const minGapMs = query.readingsHz ? 1000 / query.readingsHz : 0;
      const lastSent = new Map<string, number>();
      const owner = `stream-${++connections}`;
      let dropped = 0;
      const wants = (deviceId: string) => !devices || devices.has(deviceId);

      const send = (message: unknown) => {
        if (socket.readyState !== socket.OPEN) return;
        if (socket.bufferedAmount > STREAM_MAX_BUFFERED_BYTES) {
          dropped++;
          return;
        }
        if (dropped > 0) {
          socket.send(JSON.stringify({ type: 'dropped', count: dropped }));
          dropped = 0;
        }
        socket.send(JSON.stringify(message));
      };

      if (topics.has('readings')) {
        bus.on('readings', owner, ({ readings }) => {
          let current: { deviceId: string; items: Reading[] } | undefined;
          for (const reading of readings) {
            if (!wants(reading.deviceId)) continue;
            if (minGapMs > 0) {
              const last = lastSent.get(reading.deviceId);
              if (last !== undefined && reading.ts - last < minGapMs) continue;
              lastSent.set(reading.deviceId, reading.ts);
            }
            if (current?.deviceId !== reading.deviceId) {
              if (current) send({ type: 'readings', ...current });
              current = { deviceId: reading.deviceId, items: [] };
            }
            current.items.push(reading);
          }
          if (current) send({ type: 'readings', ...current });
        });
      }
      if (topics.has('predictions')) bus.on('prediction', owner, (p) => wants(p.deviceId) && send({ type: 'prediction', ...p }));
      if (topics.has('reps')) bus.on('reps', owner, (r) => wants(r.deviceId) && send({ type: 'reps', ...r }));
      if (topics.has('devices')) bus.on('device', owner, (d) => wants(d.deviceId) && send({ type: 'device', deviceId: d.deviceId, transport: d.transport, ...d.info }));
      if (topics.has('sessions')) bus.on('session', owner, (s) => wants(s.session.deviceId) && send({ type: 'session', event: s.type, session: s.session }));
      if (topics.has('sync')) bus.on('sync', owner, (e) => (e.event === 'state' || wants(e.deviceId)) && send({ type: 'sync', ...e }));

      socket.on('close', () => bus.removeListeners(owner));
      socket.on('error', () => bus.removeListeners(owner));
      socket.on('message', () => undefined);
    },
  });
};
