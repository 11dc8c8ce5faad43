import { defineErrors, PLATFORM_ERRORS, type ErrorDefinition } from '@platform/shared-errors';

/** gp2gp's own codes: its API is not FHIR, so errors go out as RFC 9457 problem details. */
export const GP2GP_CODE_SYSTEM = 'urn:nhs-platform:gp2gp:error-code';

function own(status: number, issueCode: string, display: string): ErrorDefinition {
  return { status, issueCode, display, system: GP2GP_CODE_SYSTEM, severity: 'error' };
}

/** Codes are one registry across the platform, so each of the service's own carries its prefix. */
export const GP2GP_OWN_ERRORS = defineErrors({
  GP2GP_ITEM_NOT_FOUND: own(404, 'not-found', 'No such item'),
});

/** The codes a gp2gp request can fail with. */
export const GP2GP_ERRORS = {
  INVALID_VALUE: PLATFORM_ERRORS.INVALID_VALUE,
  ...GP2GP_OWN_ERRORS,
} as const;

export type Gp2gpErrorCode = keyof typeof GP2GP_ERRORS;
