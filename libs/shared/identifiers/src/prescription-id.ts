import { isWellFormedOdsCode } from './ods-code';
import { randomString, type RandomSource } from './random';

/** ISO/IEC 7064 MOD 37-2 character set: the value of a character is its index. */
export const PRESCRIPTION_CHECK_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ+';

const BODY = /^[0-9A-Z]{17}$/;
const SHORT_FORM = /^[0-9A-Z]{6}-[0-9A-Z]{6}-[0-9A-Z]{5}[0-9A-Z+]$/;
const HEX = '0123456789ABCDEF';

/**
 * The check character of an EPS short-form prescription ID: ISO/IEC 7064 MOD 37-2 over the 17 characters
 * that precede it, hyphens removed (uppercase letters and digits only).
 */
export function prescriptionCheckCharacter(body17: string): string {
  if (typeof body17 !== 'string' || !BODY.test(body17)) {
    throw new RangeError('prescriptionCheckCharacter expects 17 characters from 0-9 and A-Z');
  }
  let remainder = 0;
  for (const char of body17) remainder = ((remainder + PRESCRIPTION_CHECK_ALPHABET.indexOf(char)) * 2) % 37;
  return PRESCRIPTION_CHECK_ALPHABET.charAt((38 - remainder) % 37);
}

/** True only for `XXXXXX-XXXXXX-XXXXXC` (uppercase alphanumerics) whose last character is the MOD 37-2 check character. */
export function isValidShortFormPrescriptionId(value: string): boolean {
  if (typeof value !== 'string' || !SHORT_FORM.test(value)) return false;
  const compact = value.replace(/-/g, '');
  return prescriptionCheckCharacter(compact.slice(0, 17)) === compact.charAt(17);
}

/**
 * A new short-form prescription ID: six random hex digits, the prescriber's ODS code left-padded with zeros
 * to six characters, five random hex digits and the check character.
 */
export function generateShortFormPrescriptionId(prescriberOds: string, random: RandomSource = Math.random): string {
  if (!isWellFormedOdsCode(prescriberOds)) {
    throw new RangeError('prescriber ODS code must be 3-6 uppercase letters or digits');
  }
  const first = randomString(random, HEX, 6);
  const second = prescriberOds.padStart(6, '0');
  const third = randomString(random, HEX, 5);
  return `${first}-${second}-${third}${prescriptionCheckCharacter(first + second + third)}`;
}
