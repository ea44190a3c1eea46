import type { LivePrediction } from '../../models/live.js';

/** A session: one device doing one set or workout (SPEC section 6). */
export interface Session {
  /** ULID */
  id: string;
  deviceId: string;
  /** The exercise the app (or staff) says it is; may change until and after sync. */
  label?: string;
  athleteId?: string;
  /** Exercises possible at this station; recognition chooses among these (+ rest, unknown). */
  candidates?: string[];
  startedAt: number;
  endedAt?: number;
  notes?: string;
  /** Live while active, final once ended. */
  reps?: number;
  /** The vote of the session's window predictions; live while active, final once ended. */
  predictedLabel?: string;
  status: 'active' | 'ended';
  synced: boolean;
}

/** A window's prediction (SPEC section 7): what models/ says of a window, and whose window it was. */
export interface Prediction extends LivePrediction {
  deviceId: string;
  sessionId?: string;
}

/** What recognition needs from sessions, and gives back. */
export interface SessionDirectory {
  /** The device's active session, if any. */
  active(deviceId: string): Session | undefined;
  /** Recognition's live or final results for a session. */
  recordRecognition(sessionId: string, result: { reps?: number; predictedLabel?: string }): Promise<void>;
}
