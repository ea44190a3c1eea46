/**
 * Which of a device's most recent SEQ_WINDOW_SAMPLES seqs are missing: skipped by the counter (and so
 * counted as gaps) and not arrived since. A sample whose seq is behind the newest but missing here is a
 * late sample, not a duplicate: a broker redelivering unacknowledged messages interleaves them with new
 * ones (aedes does), and each was counted as lost when a newer seq skipped it.
 *
 * One bit per seq in a ring indexed by seq mod SEQ_WINDOW_SAMPLES (512 bytes a device): the window slides
 * with the newest seq, and every slot it slides over is rewritten. A power of two, so the running uint32
 * seq indexes the ring seamlessly across its wrap.
 */
export const SEQ_WINDOW_SAMPLES = 4096;

const WORD_MASK = SEQ_WINDOW_SAMPLES / 32 - 1;

export class SeqWindow {
  private readonly missing = new Uint32Array(SEQ_WINDOW_SAMPLES / 32);
  /** Bits set in missing: while 0, a stream without gaps skips the per-sample bit work. */
  private missingCount = 0;

  /** Nothing missing: a new stream, whose seqs before its first one were never counted as gaps. */
  clear(): void {
    this.missing.fill(0);
    this.missingCount = 0;
  }

  /**
   * The counter moved on from last to last + step (step >= 1): the seqs in between are missing when they
   * were counted as gaps, and the new seq itself has arrived.
   */
  advance(last: number, step: number, counted: boolean): void {
    // Kept small so that it inlines: on the common path (in order, nothing missing) there is nothing to do.
    if (step > 1 || this.missingCount > 0) this.slide(last, step, counted);
  }

  private slide(last: number, step: number, counted: boolean): void {
    if (step > 1) {
      if (step > SEQ_WINDOW_SAMPLES) {
        this.missing.fill(counted ? 0xffffffff : 0);
        this.missingCount = counted ? SEQ_WINDOW_SAMPLES : 0;
      } else {
        for (let k = 1; k < step; k++) this.write(last + k, counted);
      }
    }
    this.write(last + step, false);
  }

  /** True (and no longer missing) when seq, `behind` seqs behind the newest, is a missing one. */
  takeMissing(seq: number, behind: number): boolean {
    if (behind >= SEQ_WINDOW_SAMPLES || !this.isMissing(seq)) return false;
    this.write(seq, false);
    return true;
  }

  /**
   * The newest seq goes back from last to before floor (a rewind): the slots of floor..last will describe
   * older seqs, of which nothing is known, so they are cleared. Returns how many of them were missing.
   */
  rollBack(floor: number, last: number): number {
    const slots = Math.min(((last - floor) | 0) + 1, SEQ_WINDOW_SAMPLES);
    let wereMissing = 0;
    for (let k = 0; k < slots; k++) {
      if (this.isMissing(last - k)) wereMissing++;
      this.write(last - k, false);
    }
    return wereMissing;
  }

  // seq may run past 2^32 or below 0 around the wrap: >>> and & take it modulo 2^32, as the ring needs.
  private isMissing(seq: number): boolean {
    return (this.missing[(seq >>> 5) & WORD_MASK] & (1 << (seq & 31))) !== 0;
  }

  private write(seq: number, missing: boolean): void {
    const word = (seq >>> 5) & WORD_MASK;
    const bit = 1 << (seq & 31);
    const was = this.missing[word];
    const now = (missing ? was | bit : was & ~bit) >>> 0;
    if (now === was) return;
    this.missing[word] = now;
    this.missingCount += missing ? 1 : -1;
  }
}
