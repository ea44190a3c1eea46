import type { CrossValidationResult, FoldResult } from './cross-validation.js';

/** Markdown tables of scripts/cross-validate.ts (the README's and ml-results.md's). */
const f3 = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(3));

/** The results table (markdown) of ml-results.md. */
export function formatCrossValidation(result: CrossValidationResult, title = 'Leave-one-lifter-out'): string {
  const rows = result.folds;
  const mean = (pick: (f: FoldResult) => number | undefined) => {
    const v = rows.map(pick).filter((x): x is number => x !== undefined);
    return v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  };
  const worst = (pick: (f: FoldResult) => number | undefined, lowIsBad = true) => {
    const v = rows.map((f) => ({ f, x: pick(f) })).filter((e): e is { f: FoldResult; x: number } => e.x !== undefined);
    const w = v.reduce((a, b) => ((lowIsBad ? b.x < a.x : b.x > a.x) ? b : a));
    return `${w.x.toFixed(3)} (${w.f.lifter})`;
  };
  const lines = [
    `### ${title}`,
    '',
    `| test lifter | windows | accuracy (all classes) | macro-F1 (all classes) | ${result.candidates.join(' vs ')} accuracy (candidates) | rep MAE | reps within 1 | sets |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (f) =>
        `| ${f.lifter} | ${f.windows} | ${f3(f.accuracy)} | ${f3(f.macroF1)} | ${f3(f.candidateAccuracy)} | ${f.repMae.toFixed(2)} | ${f3(f.repWithin1)} | ${f.sets} |`,
    ),
    `| **mean of lifters** | | ${f3(mean((f) => f.accuracy))} | ${f3(mean((f) => f.macroF1))} | ${f3(mean((f) => f.candidateAccuracy))} | ${mean((f) => f.repMae).toFixed(2)} | ${f3(mean((f) => f.repWithin1))} | |`,
    `| **worst lifter** | | ${worst((f) => f.accuracy)} | ${worst((f) => f.macroF1)} | ${worst((f) => f.candidateAccuracy)} | ${worst((f) => f.repMae, false)} | ${worst((f) => f.repWithin1)} | |`,
    `| **pooled (all test windows / sets)** | ${rows.reduce((a, f) => a + f.windows, 0)} | ${f3(result.pooled.accuracy)} | ${f3(result.pooled.macroF1)} | ${f3(result.pooled.candidateAccuracy)} | ${result.pooled.repMae.toFixed(2)} | ${f3(result.pooled.repWithin1)} | ${rows.reduce((a, f) => a + f.sets, 0)} |`,
    '',
    `Pooled per-class F1: ${Object.entries(result.pooled.perClassF1)
      .map(([c, f]) => `${c} ${f.toFixed(2)}`)
      .join(', ')}`,
    '',
    'Pooled confusion (rows = true, columns = predicted):',
    '',
    `| true \\ predicted | ${result.confusion.labels.join(' | ')} |`,
    `|---|${result.confusion.labels.map(() => '---:').join('|')}|`,
    ...result.confusion.matrix
      .map((row, i) => ({ row, label: result.confusion.labels[i] }))
      .filter(({ row }) => row.some((v) => v > 0))
      .map(({ row, label }) => `| ${label} | ${row.join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}

/** Recall of each exercise for each held-out lifter: which lifter's which exercise does not carry over. */
export function formatRecallPerLifter(result: CrossValidationResult): string {
  const classes = [...new Set(result.folds.flatMap((f) => f.classesTested))].sort();
  return [
    `| test lifter | ${classes.join(' | ')} |`,
    `|---|${classes.map(() => '---:').join('|')}|`,
    ...result.folds.map((f) => {
      const cells = classes.map((c) => {
        const i = f.confusion.labels.indexOf(c);
        const row = i >= 0 ? f.confusion.matrix[i] : [];
        const total = row.reduce((a, b) => a + b, 0);
        return total > 0 ? (row[i] / total).toFixed(2) : '-';
      });
      return `| ${f.lifter} | ${cells.join(' | ')} |`;
    }),
  ].join('\n') + '\n';
}

export function formatWindowsPerLifter(result: CrossValidationResult): string {
  const classes = [...new Set(Object.values(result.windowsPerLifter).flatMap((m) => Object.keys(m)))].sort();
  const lifters = Object.keys(result.windowsPerLifter).sort();
  return [
    `| lifter | ${classes.join(' | ')} |`,
    `|---|${classes.map(() => '---:').join('|')}|`,
    ...lifters.map((l) => `| ${l} | ${classes.map((c) => result.windowsPerLifter[l][c] ?? 0).join(' | ')} |`),
  ].join('\n') + '\n';
}

