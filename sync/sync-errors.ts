import { GymhubError } from '../daemon/errors.js';

/** Postgres does not hold exactly the session's readings after they were sent: the session is not marked synced. */
export class SyncIntegrityError extends GymhubError {
  constructor(sessionId: string, expected: number, found: number) {
    super('sync_integrity', `session ${sessionId}: Postgres holds ${found} readings in its range, the hub ${expected}`, 500, { sessionId, expected, found });
  }
}

/** POST /api/v1/sync on a hub without sync.postgresUrl. */
export class SyncOffError extends GymhubError {
  constructor() {
    super('sync_off', 'cloud sync is off: set sync.postgresUrl (GYMHUB_PG_URL)', 409);
  }
}
