import { defineErrors, PLATFORM_ERRORS, type ErrorDefinition } from '@platform/shared-errors';

/** The e-Referral Service's own error codes (eRS-OperationOutcome-1 on the STU3 API). */
export const ERS_CODE_SYSTEM = 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-APIErrorCode-1';

function ers(status: number, issueCode: string, display: string): ErrorDefinition {
  return { status, issueCode, display, system: ERS_CODE_SYSTEM, severity: 'error' };
}

/**
 * The NHS e-RS codes by name, with the HTTP status the NHS API answers them with (its 403, 409, 422 and 423
 * response tables). Codes the whole platform shares (INVALID_VALUE, RESOURCE_NOT_FOUND, PRECONDITION_FAILED,
 * RESOURCE_VERSION_MISMATCH) keep their platform definitions; e-RS answers INVALID_VALUE with 422 on its
 * business operations, which the service sets as the status.
 */
export const ERS_OWN_ERRORS = defineErrors({
  FORBIDDEN: ers(403, 'forbidden', 'Forbidden'),
  NO_RELATIONSHIP: ers(422, 'business-rule', 'The user does not have a legitimate relationship with the request'),
  INVALID_REQUEST_STATE: ers(422, 'business-rule', 'The request is not in the correct state for this action'),
  SLOT_NOT_AVAILABLE: ers(422, 'business-rule', 'Slot is no longer available'),
  INAPPROPRIATE_SLOT: ers(422, 'business-rule', 'The slot provided is not suitable'),
  SLOTS_CURRENTLY_AVAILABLE: ers(422, 'business-rule', 'There are currently future slots available'),
  REFERENCE_NOT_FOUND: ers(422, 'not-found', 'A supplied reference could not be resolved'),
  INAPPROPRIATE_VALUE: ers(422, 'business-rule', 'A value is inappropriate in the context of the request'),
  TOO_MANY_ITEMS: ers(422, 'business-rule', 'Too many items'),
  DUPLICATE_SERVICE: ers(422, 'business-rule', 'Unique service value expected'),
  DUPLICATE_FILENAME: ers(422, 'business-rule', 'Two attachments of one file name'),
  INVALID_CODE: ers(422, 'code-invalid', 'The value is not one of the defined legal values'),
  UNSUPPORTED_PRIORITY: ers(422, 'business-rule', 'The priority submitted is not supported by the responsible service'),
  PATIENT_ERROR: ers(422, 'business-rule', 'An error occurred while retrieving the requested patient'),
  UNEXPECTED_FIELD: ers(422, 'value', 'Unexpected field'),
  VALUE_IS_REQUIRED: ers(422, 'business-rule', 'A business rule defines a value as mandatory but it was not provided'),
  FIELD_NOT_PERMITTED: ers(422, 'business-rule', 'A business rule defines a field as not permitted here'),
  REFERRAL_LOCKED: ers(423, 'lock-error', 'Another user or system is updating this referral; try again later'),
});

/** The codes an e-referrals request can fail with. */
export const ERS_ERRORS = {
  INVALID_VALUE: PLATFORM_ERRORS.INVALID_VALUE,
  MISSING_VALUE: PLATFORM_ERRORS.MISSING_VALUE,
  RESOURCE_NOT_FOUND: PLATFORM_ERRORS.RESOURCE_NOT_FOUND,
  PRECONDITION_FAILED: PLATFORM_ERRORS.PRECONDITION_FAILED,
  RESOURCE_VERSION_MISMATCH: PLATFORM_ERRORS.RESOURCE_VERSION_MISMATCH,
  ...ERS_OWN_ERRORS,
} as const;

export type EReferralsErrorCode = keyof typeof ERS_ERRORS;
