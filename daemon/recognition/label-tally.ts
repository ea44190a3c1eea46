import { REST_LABEL, UNKNOWN_LABEL } from '../../models/index.js';

/**
 * models' sessionLabel() kept up to date one window at a time, in constant memory: the same vote (the
 * exercise that first reaches the highest count; `rest` when every window was rest; else `unknown`), so a
 * session's live label never needs its windows' labels kept.
 */
export class LabelTally {
  private readonly counts = new Map<string, number>();
  private best: string | undefined;
  private bestCount = 0;
  private restCount = 0;
  private total = 0;

  add(label: string): void {
    this.total++;
    if (label === REST_LABEL) this.restCount++;
    const count = (this.counts.get(label) ?? 0) + 1;
    this.counts.set(label, count);
    if (label === REST_LABEL || label === UNKNOWN_LABEL) return;
    if (count > this.bestCount) {
      this.best = label;
      this.bestCount = count;
    }
  }

  get windows(): number {
    return this.total;
  }

  /** What sessionLabel() of every label added so far returns. */
  result(): { label: string; confidence: number } {
    if (this.total === 0) return { label: UNKNOWN_LABEL, confidence: 0 };
    const label = this.best ?? (this.restCount === this.total ? REST_LABEL : UNKNOWN_LABEL);
    return { label, confidence: (this.counts.get(label) ?? 0) / this.total };
  }
}
