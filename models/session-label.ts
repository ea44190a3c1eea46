import { REST_LABEL, UNKNOWN_LABEL } from './recognizer.js';
import { voteLabel } from './metrics.js';

/**
 * A set's label from its windows' labels, as a session's predicted label is chosen: the most frequent
 * exercise; `rest` when every window was rest; otherwise `unknown`.
 */
export function sessionLabel(labels: readonly string[]): { label: string; confidence: number } {
  if (labels.length === 0) return { label: UNKNOWN_LABEL, confidence: 0 };
  const exercise = voteLabel(labels, [REST_LABEL, UNKNOWN_LABEL]);
  const label = exercise ?? (labels.every((l) => l === REST_LABEL) ? REST_LABEL : UNKNOWN_LABEL);
  return { label, confidence: labels.filter((l) => l === label).length / labels.length };
}
