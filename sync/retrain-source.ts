import type pg from 'pg';
import type { PackedSession } from '../daemon/recognition/hub-trainer.js';
import { REST_LABEL, UNKNOWN_LABEL, parseModel, type ModelFile } from '../models/index.js';

/** A labelled session as the cloud holds it. */
export interface CloudSession {
  hubId: string;
  sessionId: string;
  deviceId: string;
  label: string;
  startedAt: number;
  endedAt: number;
  /** Readings the hub said the session has, and readings Postgres holds for it. */
  readingCount: number;
  storedReadings: number;
}

export interface PublishedModel {
  version: string;
  publishedAt: number;
  /** Undefined when the stored model cannot be used by this build (another feature version, a bad row). */
  model?: ModelFile;
  problem?: string;
}

/** Readings read from one session at most (about 80 min at 100 Hz), as on the hub. */
export const MAX_SESSION_READINGS = 500_000;

/**
 * Every labelled session (rest and unknown are not exercises to learn), with how many of its readings are
 * stored: a session whose upload is not complete yet is left out by the caller. Oldest first per hub.
 */
export async function labelledCloudSessions(client: pg.ClientBase): Promise<CloudSession[]> {
  const { rows } = await client.query<{
    hub_id: string; session_id: string; device_id: string; label: string;
    started_at: string; ended_at: string; reading_count: number; stored: string;
  }>(
    `SELECT s.hub_id, s.session_id, s.device_id, s.label, s.started_at, s.ended_at, s.reading_count,
            (SELECT count(*) FROM readings r WHERE r.hub_id = s.hub_id AND r.session_id = s.session_id) AS stored
       FROM sessions s
      WHERE s.label <> ALL($1::text[])
      ORDER BY s.hub_id, s.started_at, s.session_id`,
    [[REST_LABEL, UNKNOWN_LABEL]],
  );
  return rows.map((r) => ({
    hubId: r.hub_id,
    sessionId: r.session_id,
    deviceId: r.device_id,
    label: r.label,
    startedAt: Number(r.started_at),
    endedAt: Number(r.ended_at),
    readingCount: r.reading_count,
    storedReadings: Number(r.stored),
  }));
}

/**
 * A session's readings in time order, packed as HubTrainer takes them; undefined when it has none. Its id
 * is the hub's: HubTrainer groups training windows by it, and the model records the groups it learnt from.
 */
export async function readCloudSession(client: pg.ClientBase, session: CloudSession, maxReadings = MAX_SESSION_READINGS): Promise<PackedSession | undefined> {
  const { rows } = await client.query<unknown[]>({
    text: `SELECT ts, ax, ay, az, gx, gy, gz FROM readings
            WHERE hub_id = $1 AND session_id = $2 ORDER BY ts, seq LIMIT $3`,
    values: [session.hubId, session.sessionId, maxReadings],
    rowMode: 'array',
  });
  if (rows.length === 0) return undefined;
  const ts = new Float64Array(rows.length);
  const values = new Float64Array(rows.length * 6);
  rows.forEach((row, i) => {
    ts[i] = Number(row[0]);
    for (let k = 0; k < 6; k++) values[i * 6 + k] = row[k + 1] as number;
  });
  return { id: session.hubId, label: session.label, ts, values };
}

/** The newest published model, parsed; `problem` says why it cannot be used here. */
export async function newestPublished(client: pg.ClientBase): Promise<PublishedModel | undefined> {
  const { rows } = await client.query<{ version: string; published_at: string; model: unknown }>(
    `SELECT version, published_at, model FROM models WHERE published ORDER BY published_at DESC, version DESC LIMIT 1`,
  );
  const row = rows[0];
  if (!row) return undefined;
  const published = { version: row.version, publishedAt: Number(row.published_at) };
  try {
    return { ...published, model: parseModel(row.model) };
  } catch (err) {
    return { ...published, problem: (err as Error).message };
  }
}
