import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { ShadowResult } from './model-shadow.js';

/** What the hub did with a published model. */
export interface ModelPullDecision {
  version: string;
  publishedAt: number;
  /** activated: in use now; kept: stored, not active (worse here); refused: not stored (failed a check). */
  action: 'activated' | 'kept' | 'refused';
  reason: string;
  /** ms since the epoch, on the hub's clock. */
  at: number;
  shadow?: ShadowResult;
}

/** The newest published model the hub has dealt with, and its last decisions: kept across restarts. */
export interface ModelPullState {
  seen: { version: string; publishedAt: number } | null;
  decisions: ModelPullDecision[];
}

export const DECISIONS_KEPT = 10;

export async function readPullState(file: string): Promise<ModelPullState> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as Partial<ModelPullState>;
    const seen = value.seen && typeof value.seen.version === 'string' && typeof value.seen.publishedAt === 'number' ? value.seen : null;
    return { seen, decisions: Array.isArray(value.decisions) ? value.decisions.slice(-DECISIONS_KEPT) : [] };
  } catch {
    // missing or unreadable: the hub looks at the newest published model again, which costs one evaluation
    return { seen: null, decisions: [] };
  }
}

/** Written to a temporary file and renamed: a crash leaves the old state or the new one. */
export async function writePullState(file: string, state: ModelPullState): Promise<void> {
  const tmp = `${file}.${randomUUID().slice(0, 8)}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, file);
}
