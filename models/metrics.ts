/** Classification and rep-count scores, shared by evaluate.ts and scripts/cross-validate.ts. */
export interface ClassScore {
  precision: number;
  recall: number;
  f1: number;
  /** Windows whose true label this is. */
  support: number;
}

export interface ClassificationScores {
  accuracy: number;
  /** Mean F1 over the labels that occur as true labels. */
  macroF1: number;
  perClass: Record<string, ClassScore>;
  confusion: { labels: string[]; matrix: number[][] };
}

export interface RepScores {
  /** Mean absolute error in reps over the sets with a known count. */
  mae: number;
  /** Share of those sets counted within one rep. */
  within1: number;
  sets: number;
}

/**
 * Scores window predictions. `labels` fixes the order of the confusion matrix (rows = true, columns =
 * predicted); labels met in the data but missing there are appended.
 */
export function scoreClassification(truth: readonly string[], predicted: readonly string[], labels: readonly string[]): ClassificationScores {
  const order = [...labels];
  for (const l of [...truth, ...predicted]) if (!order.includes(l)) order.push(l);
  const index = new Map(order.map((l, i) => [l, i]));
  const matrix = order.map(() => order.map(() => 0));
  let correct = 0;
  for (let i = 0; i < truth.length; i++) {
    matrix[index.get(truth[i])!][index.get(predicted[i])!]++;
    if (truth[i] === predicted[i]) correct++;
  }
  const perClass: Record<string, ClassScore> = {};
  const f1s: number[] = [];
  order.forEach((label, k) => {
    const tp = matrix[k][k];
    const support = matrix[k].reduce((a, b) => a + b, 0);
    const predictedCount = matrix.reduce((a, row) => a + row[k], 0);
    const precision = predictedCount > 0 ? tp / predictedCount : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[label] = { precision, recall, f1, support };
    if (support > 0) f1s.push(f1);
  });
  return {
    accuracy: truth.length > 0 ? correct / truth.length : 0,
    macroF1: f1s.length > 0 ? f1s.reduce((a, b) => a + b, 0) / f1s.length : 0,
    perClass,
    confusion: { labels: order, matrix },
  };
}

export function scoreReps(pairs: readonly { expected?: number; counted: number }[]): RepScores {
  const known = pairs.filter((p): p is { expected: number; counted: number } => typeof p.expected === 'number');
  const errors = known.map((p) => Math.abs(p.counted - p.expected));
  return {
    mae: errors.length > 0 ? errors.reduce((a, b) => a + b, 0) / errors.length : 0,
    within1: errors.length > 0 ? errors.filter((e) => e <= 1).length / errors.length : 0,
    sets: known.length,
  };
}

/** The most frequent label (ties: the one seen first), as a session's predicted label is chosen. */
export function voteLabel(labels: readonly string[], ignore: readonly string[] = []): string | undefined {
  const counts = new Map<string, number>();
  let best: string | undefined;
  let bestCount = 0;
  for (const l of labels) {
    if (ignore.includes(l)) continue;
    const c = (counts.get(l) ?? 0) + 1;
    counts.set(l, c);
    if (c > bestCount) {
      best = l;
      bestCount = c;
    }
  }
  return best;
}
