import { defineErrors, PLATFORM_ERRORS, type ErrorDefinition } from '@platform/shared-errors';

/** The registry's own codes: its API is not FHIR, so errors go out as RFC 9457 problem details. */
export const N3_CODE_SYSTEM = 'urn:nhs-platform:n3-registry:error-code';

function n3(status: number, issueCode: string, display: string): ErrorDefinition {
  return { status, issueCode, display, system: N3_CODE_SYSTEM, severity: 'error' };
}

export const N3_OWN_ERRORS = defineErrors({
  ORGANISATION_NOT_FOUND: n3(404, 'not-found', 'No organisation has that ODS code'),
  SITE_NOT_FOUND: n3(404, 'not-found', 'No such site'),
  CONNECTION_NOT_FOUND: n3(404, 'not-found', 'No such connection'),
  ALLOCATION_NOT_FOUND: n3(404, 'not-found', 'No such IP allocation'),
  NO_LIVE_OWNER: n3(404, 'not-found', 'No live connection holds that address'),
  INVALID_CIDR: n3(400, 'value', 'Not a valid CIDR block'),
  INVALID_IP_ADDRESS: n3(400, 'value', 'Not a valid IP address'),
  IP_RANGE_CONFLICT: n3(409, 'conflict', 'The range overlaps a block another connection holds'),
  INVALID_TRANSITION: n3(409, 'business-rule', 'That status change is not allowed'),
  ORGANISATION_CLOSED: n3(409, 'business-rule', 'The organisation is closed'),
  CONNECTION_CEASED: n3(409, 'business-rule', 'The connection has ceased'),
  INVALID_IMPORT: n3(422, 'invalid', 'The extract has rows that cannot be imported'),
});

/** The codes a registry request can fail with. */
export const N3_ERRORS = {
  INVALID_VALUE: PLATFORM_ERRORS.INVALID_VALUE,
  MISSING_VALUE: PLATFORM_ERRORS.MISSING_VALUE,
  RESOURCE_VERSION_MISMATCH: PLATFORM_ERRORS.RESOURCE_VERSION_MISMATCH,
  ...N3_OWN_ERRORS,
} as const;

export type N3ErrorCode = keyof typeof N3_ERRORS;
