import { Readable } from 'node:stream';
import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { csvChunks, jsonChunks, openExport, type SessionReadingSource } from '../sessions/session-export.js';
import {
  ATHLETE_ID_MAX_CHARS,
  ATHLETE_ID_PATTERN_SOURCE,
  CANDIDATES_MAX,
  LABEL_MAX_CHARS,
  LABEL_PATTERN_SOURCE,
  NOTES_MAX_CHARS,
  ULID_PATTERN_SOURCE,
} from '../sessions/session-input.js';
import { LIST_LIMIT_MAX, type SessionService } from '../sessions/session-service.js';
import { DeviceIdParam, ErrorSchema, ReadingSchema, pageOf } from './schemas.js';

/** Session bodies are small: a label, a note, a few candidates. Larger ones are refused with 413. */
export const SESSION_BODY_LIMIT_BYTES = 16 * 1024;

const Label = Type.String({ pattern: LABEL_PATTERN_SOURCE, maxLength: LABEL_MAX_CHARS, description: 'the exercise, e.g. squat' });
const AthleteId = Type.String({ pattern: ATHLETE_ID_PATTERN_SOURCE, maxLength: ATHLETE_ID_MAX_CHARS });
const Notes = Type.String({ maxLength: NOTES_MAX_CHARS });
const Candidates = Type.Array(Type.String({ pattern: LABEL_PATTERN_SOURCE, maxLength: LABEL_MAX_CHARS }), {
  maxItems: CANDIDATES_MAX,
  description: "exercises possible at this station, among the active model's classes (rest and unknown are always possible)",
});

export const SessionSchema = Type.Object({
  id: Type.String({ description: 'ULID' }),
  deviceId: Type.String(),
  label: Type.Optional(Type.String()),
  athleteId: Type.Optional(Type.String()),
  candidates: Type.Optional(Type.Array(Type.String())),
  startedAt: Type.Number({ description: 'ms since the epoch' }),
  endedAt: Type.Optional(Type.Number({ description: 'ms since the epoch' })),
  notes: Type.Optional(Type.String()),
  reps: Type.Optional(Type.Integer({ minimum: 0 })),
  predictedLabel: Type.Optional(Type.String()),
  status: Type.Union([Type.Literal('active'), Type.Literal('ended')]),
  synced: Type.Boolean(),
});

const SessionIdParams = Type.Object({ id: Type.String({ pattern: ULID_PATTERN_SOURCE, description: 'session id (ULID)' }) });

const StartBody = Type.Object(
  { deviceId: DeviceIdParam, label: Type.Optional(Label), athleteId: Type.Optional(AthleteId), candidates: Type.Optional(Candidates), notes: Type.Optional(Notes) },
  { additionalProperties: false },
);

const PatchBody = Type.Object(
  {
    label: Type.Optional(Label),
    notes: Type.Optional(Type.Union([Notes, Type.Null()])),
    athleteId: Type.Optional(Type.Union([AthleteId, Type.Null()])),
    candidates: Type.Optional(Type.Union([Candidates, Type.Null()])),
    end: Type.Optional(Type.Literal(true, { description: 'ends the session (again: no change)' })),
  },
  { additionalProperties: false, minProperties: 1, description: 'null removes notes, athleteId or candidates; a label can change but not be removed' },
);

const ListQuery = Type.Object({
  deviceId: Type.Optional(DeviceIdParam),
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('ended')])),
  label: Type.Optional(Label),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIST_LIMIT_MAX, default: 100 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
});

export interface SessionRouteOptions {
  sessions: Pick<SessionService, 'start' | 'update' | 'get' | 'list' | 'delete'>;
  /** The reading store (its iterate()). */
  store: SessionReadingSource;
}

const errors = { 400: ErrorSchema, 404: ErrorSchema };
/** Streamed downloads: documented by their shape, sent as streams (fastify does not serialize streams). */
const CsvDownload = Type.Unsafe<Readable>({ type: 'string', description: 'CSV with a header line' });
const JsonDownload = Type.Unsafe<Readable>(Type.Array(ReadingSchema, { description: 'canonical readings, oldest first' }));

/** Sessions (SPEC sections 6 and 8); registered under /api/v1. */
export const sessionRoutes: FastifyPluginAsyncTypebox<SessionRouteOptions> = async (app, { sessions, store }) => {
  app.post('/sessions', {
    bodyLimit: SESSION_BODY_LIMIT_BYTES,
    schema: {
      description: 'Starts a session for a device (one active session per device: 409 while another is active).',
      body: StartBody,
      response: { 201: SessionSchema, 400: ErrorSchema, 409: ErrorSchema, 413: ErrorSchema },
    },
  }, async (request, reply) => {
    const session = await sessions.start(request.body);
    return reply.code(201).header('location', `${request.url.split('?')[0]}/${session.id}`).send(session);
  });

  app.get('/sessions', {
    schema: {
      description: 'Sessions newest first (by start time), filtered by device, status and label; paged by cursor.',
      querystring: ListQuery,
      response: { 200: pageOf(SessionSchema), 400: ErrorSchema },
    },
  }, async (request) => sessions.list(request.query));

  app.get('/sessions/:id', {
    schema: { params: SessionIdParams, response: { 200: SessionSchema, ...errors } },
  }, async (request) => sessions.get(request.params.id));

  app.patch('/sessions/:id', {
    bodyLimit: SESSION_BODY_LIMIT_BYTES,
    schema: {
      description: 'Changes label, notes, athleteId or candidates, and/or ends the session with "end": true. Relabelling a synced session syncs it again.',
      params: SessionIdParams,
      body: PatchBody,
      response: { 200: SessionSchema, ...errors, 413: ErrorSchema },
    },
  }, async (request) => sessions.update(request.params.id, request.body));

  app.delete('/sessions/:id', {
    schema: {
      description: 'Deletes the session record; its readings stay in the store under the normal retention.',
      params: SessionIdParams,
      response: { 204: Type.Null(), ...errors },
    },
  }, async (request, reply) => {
    await sessions.delete(request.params.id);
    return reply.code(204).send(null);
  });

  app.get('/sessions/:id/readings.csv', {
    schema: {
      description:
        "The session's readings (the device's readings from startedAt until endedAt, or now while active) as CSV, " +
        'oldest first, streamed. Header line, then `node,millis,ax,ay,az,gx,gy,gz[,mx,my,mz],ts`: node = 1; ' +
        'millis = ms since the session start; accel in m/s^2, gyro in rad/s, mag in microtesla (present when the ' +
        "session's first readings have a magnetometer, empty for a reading without one); ts = the hub timestamp in " +
        'ms since the epoch. Without the last column each line is wire format (c), replayable as a device would send it.',
      params: SessionIdParams,
      produces: ['text/csv'],
      response: { 200: CsvDownload, ...errors },
    },
  }, async (request, reply) => {
    const session = await sessions.get(request.params.id);
    const opened = await openExport(store, session);
    reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="session-${session.id}.csv"`);
    return reply.send(Readable.from(csvChunks(session, opened)));
  });

  app.get('/sessions/:id/readings.json', {
    schema: {
      description: "The session's readings as a JSON array of canonical readings (SPEC section 3), oldest first, streamed.",
      params: SessionIdParams,
      response: { 200: JsonDownload, ...errors },
    },
  }, async (request, reply) => {
    const session = await sessions.get(request.params.id);
    const opened = await openExport(store, session);
    reply.type('application/json; charset=utf-8');
    return reply.send(Readable.from(jsonChunks(opened)));
  });
};
