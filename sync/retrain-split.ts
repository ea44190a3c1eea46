import { createHash } from 'node:crypto';
import type { CloudSession } from './retrain-source.js';

/**
 * How the retrain job holds data out for its metrics. A model is judged on people and places it never saw:
 * whole hubs when there are several, whole devices of the one hub otherwise, and only as a last resort
 * sessions (every 5th of each label, as training on the hub does).
 */
export interface EvaluationSplit {
  by: 'hubs' | 'devices' | 'sessions';
  /** The held-out groups (hub ids, or `hub/device`) and the trained-on ones. */
  heldOut: string[];
  trained: string[];
  train: CloudSession[];
  test: CloudSession[];
}

const SESSION_TEST_EVERY = 5;

/**
 * Deterministic, and stable as data grows: groups are ranked by a hash of their name and the first quarter
 * (at least one) is held out, so a new hub seldom moves an old one from one side to the other, and the
 * current model and the new one are compared on data neither was trained on, run after run.
 */
export function splitForEvaluation(sessions: readonly CloudSession[]): EvaluationSplit {
  const hubs = distinct(sessions.map((s) => s.hubId));
  if (hubs.length >= 2) return byGroup('hubs', sessions, (s) => s.hubId);
  const devices = distinct(sessions.map(deviceKey));
  if (devices.length >= 2) return byGroup('devices', sessions, deviceKey);
  return bySession(sessions);
}

function deviceKey(s: CloudSession): string {
  return `${s.hubId}/${s.deviceId}`;
}

function byGroup(by: 'hubs' | 'devices', sessions: readonly CloudSession[], groupOf: (s: CloudSession) => string): EvaluationSplit {
  const ranks = new Map(distinct(sessions.map(groupOf)).map((g) => [g, rank(g)]));
  const ranked = [...ranks.keys()].sort((a, b) => (ranks.get(a)! < ranks.get(b)! ? -1 : 1));
  const heldOut = new Set(ranked.slice(0, Math.max(1, Math.floor(ranked.length / 4))));
  return {
    by,
    heldOut: [...heldOut].sort(),
    trained: ranked.filter((g) => !heldOut.has(g)).sort(),
    train: sessions.filter((s) => !heldOut.has(groupOf(s))),
    test: sessions.filter((s) => heldOut.has(groupOf(s))),
  };
}

function bySession(sessions: readonly CloudSession[]): EvaluationSplit {
  const byLabel = new Map<string, CloudSession[]>();
  for (const s of sessions) byLabel.set(s.label, [...(byLabel.get(s.label) ?? []), s]);
  const train: CloudSession[] = [];
  const test: CloudSession[] = [];
  for (const list of byLabel.values()) {
    list.sort((a, b) => a.startedAt - b.startedAt || (a.sessionId < b.sessionId ? -1 : 1));
    list.forEach((s, i) => {
      const held = list.length >= 2 && (i % SESSION_TEST_EVERY === SESSION_TEST_EVERY - 1 || (list.length < SESSION_TEST_EVERY && i === list.length - 1));
      (held ? test : train).push(s);
    });
  }
  const key = (s: CloudSession) => `${s.hubId}/${s.sessionId}`;
  return { by: 'sessions', heldOut: test.map(key).sort(), trained: train.map(key).sort(), train, test };
}

function rank(group: string): string {
  return createHash('sha256').update(group).digest('hex');
}

function distinct(values: readonly string[]): string[] {
  return [...new Set(values)];
}
