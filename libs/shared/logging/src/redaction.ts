/**
 * Patient data must never reach a log line. Two layers: pino redacts known fields by path, and every
 * message string is scrubbed of anything shaped like an NHS number (ten digits, optionally spaced 3-3-4).
 */
const PATIENT_FIELDS = [
  'nhsNumber',
  'nhs_number',
  'patient',
  'name',
  'given',
  'family',
  'birthDate',
  'birth_date',
  'deceasedDateTime',
  'address',
  'postalCode',
  'telecom',
  'phone',
  'email',
  'body',
  'resource',
  'diagnostics',
];

export const REDACT_PATHS: string[] = PATIENT_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]);

const NHS_NUMBER_SHAPE = /(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)/g;

export function scrubText(text: string): string {
  return text.replace(NHS_NUMBER_SHAPE, '[nhs-number]');
}
