import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifySchemaValidationError } from 'fastify';
import { isModelError, type PredictResult } from '../../models/index.js';
import { BadRequestError, GymhubError, NotFoundError } from '../errors.js';
import type { ModelSummary, TrainResult } from '../recognition/model-manager.js';
import type { PredictionPage, PredictionQuery } from '../recognition/prediction-store.js';
import type { RateLimiter } from './rate-limit.js';
import { CursorQuery, DeviceIdParam, ErrorSchema, ReadingSchema, TimeRangeQuery, pageOf } from './schemas.js';

/** What the ML routes need (RecognitionService fits). */
export interface MlApi {
  predict(readings: unknown, candidates?: string[]): PredictResult;
  listPredictions(query: PredictionQuery): Promise<PredictionPage>;
  models(): Promise<ModelSummary[]>;
  train(request: { force?: boolean; seed?: number }): Promise<TrainResult>;
  activate(version: string): Promise<{ version: string; previous: string }>;
  rollback(): Promise<{ version: string; previous: string }>;
}

export interface MlRouteOptions {
  recognition: MlApi;
  /** POST /predict's body limit (4 MiB: ~40,000 readings, ~13 min at 50 Hz). */
  predictBodyLimitBytes?: number;
  /** Readings per second per client address into /predict (http.predictReadingsPerS). */
  limiter?: RateLimiter;
}

export const MAX_PREDICT_READINGS = 100_000;
const SMALL_BODY_LIMIT_BYTES = 16 * 1024;

const Probabilities = Type.Record(Type.String(), Type.Number());
export const PredictionSchema = Type.Object({
  deviceId: Type.String(),
  sessionId: Type.Optional(Type.String()),
  windowStart: Type.Number({ description: 'ms since the epoch' }),
  windowEnd: Type.Number({ description: 'ms since the epoch' }),
  label: Type.String({ description: 'an exercise, rest or unknown' }),
  confidence: Type.Number(),
  probabilities: Probabilities,
  modelVersion: Type.String(),
});
const WindowSchema = Type.Object({
  deviceId: Type.Optional(Type.String()),
  windowStart: Type.Number(),
  windowEnd: Type.Number(),
  label: Type.String(),
  confidence: Type.Number(),
  probabilities: Probabilities,
  modelVersion: Type.String(),
});
/** The canonical reading; deviceId is optional here, as /predict is stateless. */
const PredictReadingSchema = Type.Object({ ...ReadingSchema.properties, deviceId: Type.Optional(DeviceIdParam) });
const PredictBody = Type.Object(
  {
    readings: Type.Array(PredictReadingSchema, { maxItems: MAX_PREDICT_READINGS }),
    candidates: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 64 })),
  },
  { additionalProperties: false },
);
const PredictAnswer = Type.Object({
  modelVersion: Type.String(),
  label: Type.String({ description: 'vote of the windows (rest and unknown aside)' }),
  confidence: Type.Number({ description: 'share of windows that voted for label' }),
  predictions: Type.Array(WindowSchema),
  reps: Type.Integer(),
});
const ModelSchema = Type.Object({
  version: Type.String(),
  createdAt: Type.Union([Type.Number(), Type.Null()]),
  source: Type.String({ description: 'bundled, hub or cloud' }),
  featureVersion: Type.Integer(),
  classes: Type.Array(Type.String()),
  metrics: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  active: Type.Boolean(),
});
const VersionParam = Type.Object({ version: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,100}$' }) });
const SwitchAnswer = Type.Object({ version: Type.String(), previous: Type.String() });
const TrainBody = Type.Object(
  {
    force: Type.Optional(Type.Boolean({ description: 'activate even when worse than the current model' })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
  },
  { additionalProperties: false },
);
const TrainAnswer = Type.Object({
  version: Type.String(),
  created: Type.Boolean(),
  activated: Type.Boolean(),
  forced: Type.Boolean(),
  previous: Type.String(),
  active: Type.String(),
  metrics: Type.Record(Type.String(), Type.Unknown()),
});

/** ML routes (SPEC section 8), registered under /api/v1. */
export const mlRoutes: FastifyPluginAsyncTypebox<MlRouteOptions> = async (app, { recognition, predictBodyLimitBytes = 4 * 1024 * 1024, limiter }) => {
  app.get('/predictions', {
    schema: {
      description: 'Window predictions, oldest first (by window start, then device), paged by cursor.',
      querystring: Type.Object({
        deviceId: Type.Optional(DeviceIdParam),
        sessionId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' })),
        ...TimeRangeQuery,
        ...CursorQuery,
      }),
      response: { 200: pageOf(PredictionSchema), 400: ErrorSchema },
    },
  }, async (request) => {
    const { deviceId, sessionId, from, to, limit = 1000, cursor } = request.query;
    if (from !== undefined && to !== undefined && from > to) throw new BadRequestError('from must not be after to (the range is [from, to))');
    return recognition.listPredictions({ deviceId, sessionId, from, to, limit, cursor });
  });

  app.post('/predict', {
    bodyLimit: predictBodyLimitBytes,
    attachValidation: true,
    ...(limiter && { onRequest: limiter.onRequest }),
    schema: {
      description: 'Stateless recognition: readings of one set in, window predictions, their vote and a rep count out.',
      body: PredictBody,
      response: { 200: PredictAnswer, 400: ErrorSchema, 413: ErrorSchema, 429: ErrorSchema },
    },
  }, async (request) => {
    const readingsTried = (request.body as { readings?: unknown } | undefined)?.readings;
    limiter?.charge(request.ip, Math.max(1, Array.isArray(readingsTried) ? readingsTried.length : 0));
    if (request.validationError) throw invalidPredictBody(request.validationError.validation);
    const { readings, candidates } = request.body;
    const result = recognition.predict(readings, candidates);
    const deviceId = readings[0]?.deviceId;
    return deviceId === undefined ? result : { ...result, predictions: result.predictions.map((p) => ({ deviceId, ...p })) };
  });

  app.get('/models', {
    schema: {
      description: 'Every model the hub has (the bundled one first, then oldest first) with its metrics; one is active.',
      querystring: Type.Object({ ...CursorQuery }),
      response: { 200: pageOf(ModelSchema), 400: ErrorSchema },
    },
  }, async (request) => {
    const { limit = 1000, cursor } = request.query;
    const all = await recognition.models();
    const start = cursor === undefined ? 0 : all.findIndex((m) => m.version === decodeModelCursor(cursor)) + 1;
    if (start === 0 && cursor !== undefined) throw new BadRequestError('invalid cursor', undefined, 'bad_cursor');
    const items = all.slice(start, start + limit);
    const more = start + limit < all.length;
    return { items, nextCursor: more ? Buffer.from(items[items.length - 1].version).toString('base64url') : null };
  });

  app.post('/models/train', {
    bodyLimit: SMALL_BODY_LIMIT_BYTES,
    preValidation: async (request) => {
      request.body ??= {};
    },
    schema: {
      description:
        "Trains a model on the hub's ended, labelled sessions (held-out split by session) and activates it when its held-out macro-F1 " +
        'is not worse than the current model\'s, or when force is set. 201 when a new version was stored. Blocks until done.',
      body: TrainBody,
      response: { 200: TrainAnswer, 201: TrainAnswer, 400: ErrorSchema, 409: ErrorSchema },
    },
  }, async (request, reply) => {
    const { model: _model, ...result } = await withModelErrors(() => recognition.train(request.body ?? {}));
    return reply.code(result.created ? 201 : 200).send(result);
  });

  app.post('/models/:version/activate', {
    bodyLimit: SMALL_BODY_LIMIT_BYTES,
    schema: {
      description: 'Makes a stored model the active one; the previous one is kept for rollback.',
      params: VersionParam,
      response: { 200: SwitchAnswer, 404: ErrorSchema, 409: ErrorSchema },
    },
  }, async (request) => withModelErrors(() => recognition.activate(request.params.version)));

  app.post('/models/rollback', {
    bodyLimit: SMALL_BODY_LIMIT_BYTES,
    schema: {
      description: 'Re-activates the model that was active before the current one.',
      response: { 200: SwitchAnswer, 409: ErrorSchema },
    },
  }, async () => withModelErrors(() => recognition.rollback()));
};

/** A body /predict cannot use: the first problem, said plainly, with the error code of models/ where it fits. */
function invalidPredictBody(errors: FastifySchemaValidationError[]): BadRequestError {
  const first = errors[0];
  const path = first?.instancePath ?? '';
  const reading = /^\/readings\/(\d+)(\/.*)?$/.exec(path);
  if (reading) {
    const what = reading[2] ? `reading ${reading[1]}: ${reading[2].slice(1).replace(/\//g, '.')}` : `reading ${reading[1]}`;
    return new BadRequestError(`${what} ${first.message}`, { index: Number(reading[1]), errors: errors.slice(0, 10) }, 'invalid_sample');
  }
  const where = path === '' ? 'body' : `body${path.replace(/\//g, '.')}`;
  return new BadRequestError(`${where} ${first?.message ?? 'is invalid'}: send {"readings": [{"ts", "accel": [x, y, z], "gyro": [x, y, z]}, ...], "candidates"?: [...]}`, { errors: errors.slice(0, 10) }, path.startsWith('/readings') ? 'invalid_sample' : 'bad_request');
}

function decodeModelCursor(cursor: string): string {
  return Buffer.from(cursor, 'base64url').toString('utf8');
}

/** Registry errors as API errors: unknown versions 404, unusable models 409, the rest 400. */
async function withModelErrors<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (!isModelError(err)) throw err;
    if (err.code === 'model_not_found') throw new NotFoundError('model', String(err.details?.path ?? ''));
    if (err.code === 'invalid_model' || err.code === 'feature_version_mismatch') throw new GymhubError('model_unusable', err.message, 409, err.details);
    throw new BadRequestError(err.message, err.details, err.code);
  }
}
