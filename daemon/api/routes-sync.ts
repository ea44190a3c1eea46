import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { SyncApi } from '../../sync/sync-types.js';
import type { ModelPullStatus } from '../../sync/model-pull.js';
import { ErrorSchema } from './schemas.js';

const Time = Type.Union([Type.Number({ description: 'ms since the epoch' }), Type.Null()]);

export const SyncStatusSchema = Type.Object({
  state: Type.Union([Type.Literal('off'), Type.Literal('idle'), Type.Literal('syncing'), Type.Literal('backoff'), Type.Literal('error')], {
    description: 'off: no sync.postgresUrl; backoff: Postgres unreachable, retried later; error: Postgres refused, retried later',
  }),
  target: Type.Union([Type.String({ description: 'host:port/database (no credentials)' }), Type.Null()]),
  pendingSessions: Type.Integer({ description: 'ended, labelled sessions not yet synced at their current label' }),
  pendingReadings: Type.Integer({ description: 'readings in those sessions (an estimate: a relabelled session counts all its readings, though only its row is sent again)' }),
  oldestUnsyncedAt: Type.Union([Type.Number({ description: 'endedAt of the oldest pending session' }), Type.Null()]),
  oldestUnsyncedAgeS: Type.Union([Type.Number(), Type.Null()]),
  lastAttemptAt: Time,
  lastSuccessAt: Time,
  lastError: Type.Union([Type.Object({ message: Type.String(), at: Type.Number() }), Type.Null()]),
  nextAttemptAt: Time,
  uploadedSessions: Type.Integer({ description: 'since the hub started' }),
  uploadedReadings: Type.Integer({ description: 'readings of the sessions confirmed in Postgres since the hub started (a relabel, which sends the row alone, adds none)' }),
  errors: Type.Integer({ description: 'failed runs since the hub started' }),
  models: Type.Union([ModelPullSchema(), Type.Null()], { description: 'the pull of published cloud models; null when sync is off' }),
});

function ModelPullSchema() {
  const decision = Type.Object({
    version: Type.String(),
    publishedAt: Type.Number(),
    action: Type.Union([Type.Literal('activated'), Type.Literal('kept'), Type.Literal('refused')], {
      description: 'activated: in use now; kept: stored, not active (worse on this hub); refused: failed a check (checksum, feature version)',
    }),
    reason: Type.String(),
    at: Type.Number(),
    shadow: Type.Optional(Type.Unknown({ description: "the shadow evaluation on this hub's labelled sessions: both models' scores" })),
  });
  return Type.Object({
    state: Type.Union([Type.Literal('idle'), Type.Literal('polling'), Type.Literal('error'), Type.Literal('stopped')]),
    pollIntervalS: Type.Number(),
    lastPollAt: Time,
    lastSuccessAt: Time,
    lastError: Type.Union([Type.String(), Type.Null()]),
    nextPollAt: Time,
    seen: Type.Union([Type.Object({ version: Type.String(), publishedAt: Type.Number() }), Type.Null()]),
    lastDecision: Type.Union([decision, Type.Null()]),
    decisions: Type.Array(decision, { description: 'the last few, oldest first' }),
  });
}

/** GET and POST /api/v1/sync (SPEC section 8): cloud sync status, and a run now. */
export const syncRoutes: FastifyPluginAsyncTypebox<{ sync: SyncApi; modelPull: () => ModelPullStatus | null }> = async (app, { sync, modelPull }) => {
  const withModels = (status: ReturnType<SyncApi['status']>) => ({ ...status, models: modelPull() });
  app.get('/sync', {
    schema: { description: 'Cloud sync: state, pending sessions and readings, age of the oldest unsynced, last success and error; the model pull.', response: { 200: SyncStatusSchema } },
  }, async () => withModels(sync.status()));

  app.post('/sync', {
    schema: {
      description: 'Sync now (a retry wait is skipped). By default answers once the run ended, with the status after it; with wait=false at once (202). 409 when sync is off.',
      querystring: Type.Object({ wait: Type.Optional(Type.Boolean({ default: true })) }),
      response: { 200: SyncStatusSchema, 202: SyncStatusSchema, 409: ErrorSchema },
    },
  }, async (request, reply) => {
    if (request.query.wait === false) {
      if (sync.status().state === 'off') return withModels(await sync.syncNow());
      void sync.syncNow().catch(() => undefined);
      return reply.code(202).send(withModels(sync.status()));
    }
    return withModels(await sync.syncNow());
  });
};
