const TWELVE_DIGITS = /^[0-9]{12}$/;

/** True for a well-formed e-Referral Service Unique Booking Reference Number: exactly 12 ASCII digits. */
export function isWellFormedUbrn(value: string): boolean {
  return typeof value === 'string' && TWELVE_DIGITS.test(value);
}
