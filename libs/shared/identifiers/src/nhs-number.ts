import { randomString, type RandomSource } from './random';

const TEN_DIGITS = /^[0-9]{10}$/;
const DIGITS = /^[0-9]*$/;
const MAX_GENERATION_ATTEMPTS = 1000;

/**
 * The check digit of an NHS number from its first nine digits: modulus 11 with weights 10..2,
 * check = 11 - (sum mod 11), where 11 becomes 0. Returns null when the result is 10: no NHS number
 * starting with those nine digits is valid.
 */
export function nhsNumberCheckDigit(firstNine: string): number | null {
  if (firstNine.length !== 9 || !DIGITS.test(firstNine)) {
    throw new RangeError('nhsNumberCheckDigit expects exactly nine ASCII digits');
  }
  let sum = 0;
  for (let i = 0; i < 9; i += 1) sum += (firstNine.charCodeAt(i) - 48) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 11) return 0;
  if (check === 10) return null;
  return check;
}

/** True only for exactly ten ASCII digits (no spaces or separators) whose last digit is the modulus 11 check digit. */
export function isValidNhsNumber(value: string): boolean {
  if (typeof value !== 'string' || !TEN_DIGITS.test(value)) return false;
  const check = nhsNumberCheckDigit(value.slice(0, 9));
  return check !== null && check === value.charCodeAt(9) - 48;
}

/**
 * A random valid NHS number. `prefix` (0-9 digits) fixes the leading digits, for example '9' for the
 * test range; the remaining digits are drawn from `random`, redrawing whenever the check digit would be 10.
 */
export function generateNhsNumber(random: RandomSource = Math.random, prefix = ''): string {
  if (prefix.length > 9 || !DIGITS.test(prefix)) {
    throw new RangeError('NHS number prefix must be at most nine ASCII digits');
  }
  for (let attempt = 0; attempt < MAX_GENERATION_ATTEMPTS; attempt += 1) {
    const firstNine = prefix + randomString(random, '0123456789', 9 - prefix.length);
    const check = nhsNumberCheckDigit(firstNine);
    if (check !== null) return `${firstNine}${check}`;
    if (prefix.length === 9) break;
  }
  throw new RangeError(`no valid NHS number can be generated with prefix ${prefix}`);
}

/** Formats ten digits in the 3-3-4 grouping used on screen and paper, e.g. `943 476 5919`. */
export function formatNhsNumber(value: string, separator = ' '): string {
  if (typeof value !== 'string' || !TEN_DIGITS.test(value)) {
    throw new RangeError('formatNhsNumber expects exactly ten ASCII digits');
  }
  return `${value.slice(0, 3)}${separator}${value.slice(3, 6)}${separator}${value.slice(6)}`;
}
