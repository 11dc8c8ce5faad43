/**
 * e-RS business functions (the `NHSD-eRS-Business-Function` header, code system eRS-BusinessFunction-1) and
 * the platform roles that hold them. A caller names the function it acts in; e-referrals refuses (403) a
 * function none of the caller's roles holds, and an operation the function may not perform.
 */
export const BUSINESS_FUNCTION_SYSTEM = 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-BusinessFunction-1';

/** Every business function the NHS API names (the header's enumeration). */
export const BUSINESS_FUNCTIONS = {
  REFERRING_CLINICIAN: 'Referring Clinician',
  REFERRING_CLINICIAN_ADMIN: 'Referring Clinician Admin',
  REFERRING_ADMIN: 'Referring Admin',
  COMMISSIONER: 'Commissioner',
  SERVICE_PROVIDER_CLINICIAN_ADMIN: 'Service Provider Clinician Admin',
  SERVICE_PROVIDER_CLINICIAN: 'Service Provider Clinician',
  SERVICE_PROVIDER_ADMIN: 'Service Provider Admin',
  INFORMATION_ANALYST: 'Information Analyst',
  BOOKING_MANAGER: 'Booking Manager',
  ADDITIONAL_REQUIREMENTS_MANAGER: 'Additional Requirements Manager',
} as const;
export type BusinessFunction = keyof typeof BUSINESS_FUNCTIONS;
export const BUSINESS_FUNCTION_CODES = Object.keys(BUSINESS_FUNCTIONS) as BusinessFunction[];

/** Platform realm role -> the e-RS business functions it holds. */
export const ROLE_BUSINESS_FUNCTIONS: Readonly<Record<string, readonly BusinessFunction[]>> = {
  clinician: ['REFERRING_CLINICIAN'],
  'practice-admin': ['REFERRING_ADMIN', 'REFERRING_CLINICIAN_ADMIN'],
  // A hospital clinician works in their own name or, as the clinician admin, on behalf of a colleague (A040).
  'provider-clinician': ['SERVICE_PROVIDER_CLINICIAN', 'SERVICE_PROVIDER_CLINICIAN_ADMIN'],
};

/** The business functions a caller with these roles holds. */
export function businessFunctionsOf(roles: readonly string[]): BusinessFunction[] {
  const held = new Set<BusinessFunction>();
  for (const role of roles) for (const fn of ROLE_BUSINESS_FUNCTIONS[role] ?? []) held.add(fn);
  return [...held];
}

/** Who refers (A010, A011, A015, A016, A021, A031): a referring clinician, or an administrator on their behalf. */
export const REFERRER_FUNCTIONS: readonly BusinessFunction[] = ['REFERRING_CLINICIAN', 'REFERRING_CLINICIAN_ADMIN'];
/** Who reviews referrals at the provider (A008, A013, A014, A028). */
export const PROVIDER_FUNCTIONS: readonly BusinessFunction[] = [
  'SERVICE_PROVIDER_CLINICIAN',
  'SERVICE_PROVIDER_CLINICIAN_ADMIN',
];
/** Reads and reference data: every function the platform's roles hold. */
export const READER_FUNCTIONS: readonly BusinessFunction[] = [
  'REFERRING_CLINICIAN',
  'REFERRING_CLINICIAN_ADMIN',
  'REFERRING_ADMIN',
  'SERVICE_PROVIDER_CLINICIAN',
  'SERVICE_PROVIDER_CLINICIAN_ADMIN',
];
