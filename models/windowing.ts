import type { Segment } from './resample.js';

/** 2.56 s windows with 50% overlap: at 50 Hz, 128 samples (a power of two for the FFT) every 1.28 s. */
export const DEFAULT_WINDOW_S = 2.56;
export const DEFAULT_OVERLAP = 0.5;

export interface WindowOptions {
  windowS?: number;
  /** Fraction of a window shared with the next one, in [0, 1). */
  overlap?: number;
}

export interface WindowShape {
  /** Samples per window. */
  length: number;
  /** Samples between the starts of consecutive windows. */
  hop: number;
}

export function windowShape(rateHz: number, options: WindowOptions = {}): WindowShape {
  const windowS = options.windowS ?? DEFAULT_WINDOW_S;
  const overlap = options.overlap ?? DEFAULT_OVERLAP;
  if (!(windowS > 0) || !(overlap >= 0 && overlap < 1)) {
    throw new RangeError(`invalid window options: windowS=${windowS}, overlap=${overlap}`);
  }
  const length = Math.max(8, Math.round(windowS * rateHz));
  return { length, hop: Math.max(1, Math.round(length * (1 - overlap))) };
}

export interface WindowRef {
  segment: Segment;
  offset: number;
  length: number;
  startMs: number;
  /** Start plus the window's duration (length samples). */
  endMs: number;
}

/** The complete windows of one gap-free segment; a tail shorter than a window yields none. */
export function segmentWindows(segment: Segment, shape: WindowShape): WindowRef[] {
  const refs: WindowRef[] = [];
  const periodMs = 1000 / segment.rateHz;
  for (let offset = 0; offset + shape.length <= segment.length; offset += shape.hop) {
    const startMs = segment.t0Ms + offset * periodMs;
    refs.push({ segment, offset, length: shape.length, startMs, endMs: startMs + shape.length * periodMs });
  }
  return refs;
}
