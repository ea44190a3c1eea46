import { isDeviceId } from '../../drivers/reading.js';
import { BadRequestError } from '../errors.js';

/**
 * What a client may put into a session, checked in one place: the API's TypeBox schemas use these limits,
 * and the service checks them again so that the CLI and other callers get the same answers.
 */
export const LABEL_MAX_CHARS = 64;
/** A label is an exercise name, later a class name for retraining: the same characters as a model's classes. */
export const LABEL_PATTERN_SOURCE = `^[A-Za-z0-9_.:-]{1,${LABEL_MAX_CHARS}}$`;
export const ATHLETE_ID_MAX_CHARS = 128;
/** Any characters but control characters. */
export const ATHLETE_ID_PATTERN_SOURCE = `^[^\\u0000-\\u001f\\u007f]{1,${ATHLETE_ID_MAX_CHARS}}$`;
export const NOTES_MAX_CHARS = 2000;
export const CANDIDATES_MAX = 32;
/** ULIDs in Crockford base32; lower case is accepted and normalised to the canonical upper case. */
export const ULID_PATTERN_SOURCE = '^[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$';

const LABEL_PATTERN = new RegExp(LABEL_PATTERN_SOURCE);
const ATHLETE_ID_PATTERN = new RegExp(ATHLETE_ID_PATTERN_SOURCE);
const ULID_PATTERN = new RegExp(ULID_PATTERN_SOURCE);

export interface StartSessionInput {
  deviceId: string;
  label?: string;
  athleteId?: string;
  candidates?: string[];
  notes?: string;
}

/** `null` removes a field. A label can change but not be removed: delete the session instead. */
export interface UpdateSessionInput {
  label?: string;
  notes?: string | null;
  athleteId?: string | null;
  candidates?: string[] | null;
  end?: true;
}

/** The canonical (upper case) id, or a 400 for anything that is not a ULID. */
export function normaliseSessionId(id: string): string {
  if (typeof id !== 'string' || !ULID_PATTERN.test(id)) throw new BadRequestError(`session id ${JSON.stringify(id)} is not a ULID`, { id }, 'bad_session_id');
  return id.toUpperCase();
}

export function checkDeviceId(deviceId: unknown): string {
  if (!isDeviceId(deviceId)) throw new BadRequestError('deviceId must be 1-64 characters of [A-Za-z0-9_.:-]', { deviceId });
  return deviceId;
}

export function checkLabel(label: unknown): string {
  if (typeof label !== 'string' || !LABEL_PATTERN.test(label)) {
    throw new BadRequestError(`label must be 1-${LABEL_MAX_CHARS} characters of [A-Za-z0-9_.:-]`, { label });
  }
  return label;
}

export function checkAthleteId(athleteId: unknown): string {
  if (typeof athleteId !== 'string' || !ATHLETE_ID_PATTERN.test(athleteId)) {
    throw new BadRequestError(`athleteId must be 1-${ATHLETE_ID_MAX_CHARS} characters without control characters`, { athleteId });
  }
  return athleteId;
}

export function checkNotes(notes: unknown): string {
  if (typeof notes !== 'string' || notes.length > NOTES_MAX_CHARS) throw new BadRequestError(`notes must be a string of at most ${NOTES_MAX_CHARS} characters`);
  return notes;
}

/**
 * Candidates must be exercises the active model knows (`rest` and `unknown` are always possible and are not
 * listed). Duplicates are dropped; an empty list means "none" (the device's default then applies).
 */
export function checkCandidates(candidates: unknown, knownClasses: readonly string[]): string[] | undefined {
  if (!Array.isArray(candidates) || candidates.some((c) => typeof c !== 'string')) throw new BadRequestError('candidates must be an array of exercise names');
  if (candidates.length > CANDIDATES_MAX) throw new BadRequestError(`at most ${CANDIDATES_MAX} candidates`, { count: candidates.length });
  const unique = [...new Set(candidates as string[])];
  if (unique.length === 0) return undefined;
  const known = new Set(knownClasses);
  const unknown = unique.filter((c) => !known.has(c));
  if (unknown.length > 0) {
    const valid = [...knownClasses];
    const message = valid.length === 0
      ? `unknown candidates ${unknown.join(', ')}: no model is active, so no exercise can be a candidate`
      : `unknown candidates ${unknown.join(', ')}; the active model knows ${valid.join(', ')}`;
    throw new BadRequestError(message, { unknown, valid }, 'unknown_candidates');
  }
  return unique;
}
