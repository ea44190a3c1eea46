import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SEQ_WINDOW_SAMPLES, SeqWindow } from '../../drivers/codec/seq-window.js';
import { int, seededRandom } from './fuzz-gen.js';

const W = SEQ_WINDOW_SAMPLES;

/** The same ring as one boolean per slot: what SeqWindow packs into bits and shortcuts with its count. */
class Model {
  readonly slots = new Array<boolean>(W).fill(false);
  private slot(seq: number): number {
    return (((seq % W) + W) % W);
  }
  advance(last: number, step: number, counted: boolean): void {
    for (let k = Math.max(1, step - W + 1); k < step; k++) this.slots[this.slot(last + k)] = counted;
    if (step > W && !counted) this.slots.fill(false);
    this.slots[this.slot(last + step)] = false;
  }
  takeMissing(seq: number, behind: number): boolean {
    if (behind >= W || !this.slots[this.slot(seq)]) return false;
    this.slots[this.slot(seq)] = false;
    return true;
  }
  rollBack(floor: number, last: number): number {
    let n = 0;
    for (let k = 0; k < Math.min(last - floor + 1, W); k++) {
      if (this.slots[this.slot(last - k)]) n++;
      this.slots[this.slot(last - k)] = false;
    }
    return n;
  }
}

describe('SeqWindow', () => {
  it('matches a one-boolean-per-slot model through random gaps, late arrivals, rollbacks and the 2^32 wrap', () => {
    const random = seededRandom(0x5e9);
    for (let run = 0; run < 20; run++) {
      const window = new SeqWindow();
      const model = new Model();
      // Start near the uint32 wrap in some runs: the ring must index the running seq across it.
      let last = run % 2 === 0 ? 2 ** 32 - int(random, 1, 3 * W) : int(random, 0, 10 * W);
      for (let op = 0; op < 1_000; op++) {
        const roll = random();
        if (roll < 0.3) {
          // A run in order, as most of a stream is: the path that skips the bit work while nothing is missing.
          for (let k = int(random, 1, 2 * W); k > 0; k--) {
            window.advance(last, 1, true);
            model.advance(last, 1, true);
            last = (last + 1) % 2 ** 32;
          }
        } else if (roll < 0.6) {
          const step = int(random, 2, roll < 0.58 ? 40 : 2 * W);
          window.advance(last, step, true);
          model.advance(last, step, true);
          last = (last + step) % 2 ** 32;
        } else if (roll < 0.97) {
          const behind = int(random, 0, W + 10);
          const seq = (last - behind + 2 ** 32) % 2 ** 32;
          assert.equal(window.takeMissing(seq, behind), model.takeMissing(seq, behind), `run ${run} op ${op} seq ${seq}`);
        } else {
          const floor = last - int(random, 0, W + 100);
          assert.equal(window.rollBack(floor, last), model.rollBack(floor, last));
          last = (floor - 1 + 2 ** 32) % 2 ** 32;
        }
      }
      for (let behind = 0; behind < W; behind++) {
        const seq = (last - behind + 2 ** 32) % 2 ** 32;
        assert.equal(window.takeMissing(seq, behind), model.takeMissing(seq, behind));
      }
    }
  });

  it('a jump past MAX_COUNTED_SEQ_GAP marks nothing missing; clear forgets everything', () => {
    const window = new SeqWindow();
    window.advance(0, 100, true);
    assert.equal(window.takeMissing(50, 50), true);
    window.advance(100, 2_000_000, false);
    assert.equal(window.takeMissing(2_000_099, 1), false);
    window.advance(2_000_100, 10, true);
    window.clear();
    assert.equal(window.takeMissing(2_000_105, 5), false);
  });
});
