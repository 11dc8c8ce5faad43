import { defineErrors, PLATFORM_ERRORS, SPINE_CODE_SYSTEM, type ErrorDefinition } from '@platform/shared-errors';

/** The cancellation outcomes (R-codes) the NHS returns, per item or as the whole answer. */
export const CANCELLATION_CODE_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/medicationrequest-status-history';

/** EPS's own issue codes (the NHS EPS FHIR API publishes them in this code system). */
export const EPS_ISSUE_CODE_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/EPS-IssueCode';

function spine(status: number, issueCode: string, display: string): ErrorDefinition {
  return { status, issueCode, display, system: SPINE_CODE_SYSTEM, severity: 'error', version: '1' };
}
function eps(status: number, issueCode: string, display: string): ErrorDefinition {
  return { status, issueCode, display, system: EPS_ISSUE_CODE_SYSTEM, severity: 'error' };
}

export const EPS_OWN_ERRORS = defineErrors({
  FAILURE_TO_PROCESS_MESSAGE: spine(400, 'processing', 'Unable to process message. Information missing or invalid'),
  MISSING_FIELD: spine(400, 'value', 'Required field missing'),
  DUPLICATE_PRESCRIPTION_ID: spine(400, 'business-rule', 'Prescription ID already used'),
  PATIENT_DECEASED: spine(400, 'business-rule', 'Patient is deceased'),
  INVALID_SIGNATURE: eps(400, 'invalid', 'The prescriber signature does not verify'),
  UNKNOWN_PRESCRIBER_KEY: eps(400, 'invalid', 'No signing key is registered for the prescriber'),
  PRESCRIPTION_WITH_ANOTHER_DISPENSER: eps(400, 'business-rule', 'Prescription is with another dispenser'),
  'R-0008': {
    status: 404,
    issueCode: 'not-found',
    display: 'Prescription/item not found',
    system: CANCELLATION_CODE_SYSTEM,
    severity: 'error',
  },
  'R-5000': {
    status: 400,
    issueCode: 'processing',
    display: 'Unable to process message. Information missing or invalid',
    system: CANCELLATION_CODE_SYSTEM,
    severity: 'error',
  },
  /** A nominated release found nothing left to release: an informational issue in a 200 answer. */
  NO_MORE_PRESCRIPTIONS: { ...eps(200, 'informational', 'No more prescriptions to release'), severity: 'information' },
});

export const EPS_ERRORS = {
  INVALID_VALUE: PLATFORM_ERRORS.INVALID_VALUE,
  RESOURCE_NOT_FOUND: PLATFORM_ERRORS.RESOURCE_NOT_FOUND,
  ...EPS_OWN_ERRORS,
} as const;
