/**
 * Sensor values are stored as float32. Read back raw, 1.414 would come out as 1.4140000343322754; rounded to
 * the 7 significant digits a float32 holds, it comes back as the 1.414 the device sent.
 *
 * Same result as `Number(v.toPrecision(7))` (a test checks this on random values), about four times faster:
 * it runs for every value of every reading read, and CSV export and sync read millions of them.
 */
const POW10_MIN = -45;
const POW10_MAX = 45;
const POW10: number[] = [];
for (let e = POW10_MIN; e <= POW10_MAX; e++) POW10.push(Number(`1e${e}`));

function pow10(exponent: number): number {
  return POW10[exponent - POW10_MIN];
}

/** The largest power of ten for which `value * 10^k` and `/ 10^k` are exact in a double. */
const EXACT_POW10_MAX = 22;

export function roundFloat32(value: number): number {
  if (value === 0) return 0;
  if (!Number.isFinite(value)) return value;
  const magnitude = Math.abs(value);
  let exponent = Math.floor(Math.log10(magnitude));
  if (exponent <= POW10_MIN || exponent >= POW10_MAX) return Number(value.toPrecision(7));
  // Math.log10 may be off by one near powers of ten.
  if (magnitude >= pow10(exponent + 1)) exponent += 1;
  else if (magnitude < pow10(exponent)) exponent -= 1;
  const scale = 6 - exponent;
  let rounded: number;
  if (scale >= 0 && scale <= EXACT_POW10_MAX) rounded = Math.round(magnitude * pow10(scale)) / pow10(scale);
  else if (scale < 0 && scale >= -EXACT_POW10_MAX) rounded = Math.round(magnitude / pow10(-scale)) * pow10(-scale);
  else return Number(value.toPrecision(7));
  return value < 0 ? -rounded : rounded;
}
