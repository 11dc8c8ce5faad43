import { defineErrors, PLATFORM_ERRORS, type ErrorDefinition } from '@platform/shared-errors';

/** gp2gp's own codes: its operator API is not FHIR, so these go out as RFC 9457 problem details. */
export const GP2GP_CODE_SYSTEM = 'urn:nhs-platform:gp2gp:error-code';

function own(status: number, issueCode: string, display: string): ErrorDefinition {
  return { status, issueCode, display, system: GP2GP_CODE_SYSTEM, severity: 'error' };
}

/** Codes are one registry across the platform, so each of the service's own carries its prefix. */
export const GP2GP_OWN_ERRORS = defineErrors({
  /** Also the answer to another practice's conversation: a caller cannot learn that it exists. */
  GP2GP_TRANSFER_NOT_FOUND: own(404, 'not-found', 'No such transfer'),
  GP2GP_CONVERSATION_CONFLICT: own(409, 'conflict', 'The conversation ID belongs to another transfer'),
  GP2GP_OUT_OF_ORDER: own(409, 'conflict', 'The transfer is not at the step this message belongs to'),
  GP2GP_TRANSFER_CLOSED: own(409, 'conflict', 'The transfer is already closed'),
  GP2GP_NOT_RESENDABLE: own(409, 'conflict', 'Only a failed or timed-out transfer can be sent again'),
  GP2GP_NO_ORGANISATION: own(403, 'forbidden', 'The caller acts for no organisation'),
  GP2GP_LINK_INVALID: own(403, 'forbidden', 'The attachment link is not valid for this caller'),
  GP2GP_LINK_EXPIRED: own(410, 'expired', 'The attachment link has expired'),
});

/** The codes a gp2gp request can fail with. */
export const GP2GP_ERRORS = {
  INVALID_VALUE: PLATFORM_ERRORS.INVALID_VALUE,
  INVALID_RESOURCE_ID: PLATFORM_ERRORS.INVALID_RESOURCE_ID,
  ...GP2GP_OWN_ERRORS,
} as const;

export type Gp2gpErrorCode = keyof typeof GP2GP_ERRORS;
