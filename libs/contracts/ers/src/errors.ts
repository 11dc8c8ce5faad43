import { defineErrors, PLATFORM_ERRORS, type ErrorDefinition } from '@platform/shared-errors';

/** e-referrals's own codes: its API is not FHIR, so errors go out as RFC 9457 problem details. */
export const ERS_CODE_SYSTEM = 'urn:nhs-platform:e-referrals:error-code';

function own(status: number, issueCode: string, display: string): ErrorDefinition {
  return { status, issueCode, display, system: ERS_CODE_SYSTEM, severity: 'error' };
}

/** Codes are one registry across the platform, so each of the service's own carries its prefix. */
export const ERS_OWN_ERRORS = defineErrors({
  ERS_ITEM_NOT_FOUND: own(404, 'not-found', 'No such item'),
});

/** The codes a e-referrals request can fail with. */
export const ERS_ERRORS = {
  INVALID_VALUE: PLATFORM_ERRORS.INVALID_VALUE,
  ...ERS_OWN_ERRORS,
} as const;

export type EReferralsErrorCode = keyof typeof ERS_ERRORS;
