/**
 * A strict reader of comma-separated decimal numbers, for serial CSV lines (SPEC format c) and the shared
 * recordings. Strict because Number() is lenient in ways a garbled serial line must not get through
 * (Number('') is 0, Number(' 1') is 1, Number('0x1f') is 31), and in place because it runs per line on the
 * hot path: no split(), no substring per field.
 *
 * Plain decimals with at most 15 significant digits are computed as mantissa / 10^k: both are exact
 * doubles, and one IEEE division is correctly rounded, so the result is bit-identical to Number(field).
 * Anything longer or with an exponent goes through a regex check and Number().
 */

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
const MAX_FAST_DIGITS = 15;
const STRICT_DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

const COMMA = 44;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const LOWER_E = 101;
const UPPER_E = 69;

/** Result codes of parseCsvNumbers besides a field count. */
export const CSV_BAD_NUMBER = -1;
export const CSV_TOO_MANY_FIELDS = -2;

/**
 * Reads the fields of line[0, end) into out. Returns how many fields there were, CSV_BAD_NUMBER when a
 * field is not a plain decimal number (empty, spaces, letters), or CSV_TOO_MANY_FIELDS when there are
 * more fields than out holds.
 */
export function parseCsvNumbers(line: string, end: number, out: Float64Array): number {
  let count = 0;
  let start = 0;
  for (;;) {
    if (count === out.length) return CSV_TOO_MANY_FIELDS;
    let i = start;
    let negative = false;
    let c = i < end ? line.charCodeAt(i) : COMMA;
    if (c === MINUS || c === PLUS) {
      negative = c === MINUS;
      c = ++i < end ? line.charCodeAt(i) : COMMA;
    }
    let mantissa = 0;
    let digits = 0;
    let fractionDigits = 0;
    let seenDot = false;
    let slow = false;
    while (c !== COMMA) {
      if (c >= DIGIT_0 && c <= DIGIT_9) {
        mantissa = mantissa * 10 + (c - DIGIT_0);
        digits++;
        if (seenDot) fractionDigits++;
      } else if (c === DOT && !seenDot) {
        seenDot = true;
      } else if (c === LOWER_E || c === UPPER_E || c === PLUS || c === MINUS) {
        slow = true;
      } else {
        return CSV_BAD_NUMBER;
      }
      c = ++i < end ? line.charCodeAt(i) : COMMA;
    }
    if (slow || digits > MAX_FAST_DIGITS) {
      const field = line.slice(start, i);
      if (!STRICT_DECIMAL.test(field)) return CSV_BAD_NUMBER;
      out[count++] = Number(field);
    } else {
      if (digits === 0) return CSV_BAD_NUMBER;
      const value = fractionDigits === 0 ? mantissa : mantissa / POW10[fractionDigits];
      out[count++] = negative ? -value : value;
    }
    if (i >= end) return count;
    start = i + 1;
  }
}
