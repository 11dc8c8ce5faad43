import { PlatformError } from '@platform/shared-errors';
import { isWellFormedOdsCode } from '@platform/shared-identifiers';

/** INVALID_VALUE naming the field at fault, in the diagnostics and as `errors` for problem details. */
export function fieldError(field: string, message: string): PlatformError {
  return new PlatformError('INVALID_VALUE', undefined, {
    diagnostics: `${field}: ${message}`,
    details: { errors: [{ field, message }] },
  });
}

/** An ODS code from a path or a query: trimmed and upper-cased, refused (never looked up) when malformed. */
export function odsCodeOf(value: string, field = 'odsCode'): string {
  const code = value.trim().toUpperCase();
  if (!isWellFormedOdsCode(code)) {
    throw fieldError(field, `'${value.slice(0, 20)}' is not an ODS code (3 to 6 letters or digits)`);
  }
  return code;
}

/** A YYYY-MM-DD that is a real day of the calendar (2026-02-30 is not). */
export function checkDate(value: string | null | undefined, field: string): void {
  if (value === null || value === undefined) return;
  const parsed = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== value) {
    throw fieldError(field, `${value} is not a calendar date`);
  }
}
