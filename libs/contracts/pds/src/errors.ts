import { defineErrors, PLATFORM_ERRORS, SPINE_CODE_SYSTEM } from '@platform/shared-errors';
import { PDS_SEARCH_ERRORS } from './search';

/** Spine codes only PDS uses, registered so that the gateway maps them to the NHS's status and display. */
export const PDS_OWN_ERRORS = defineErrors({
  INVALID_UPDATE: {
    status: 400,
    issueCode: 'structure',
    display: 'Update is invalid',
    system: SPINE_CODE_SYSTEM,
    severity: 'error',
    version: '1',
  },
  INVALID_CREATE: {
    status: 400,
    issueCode: 'value',
    display: 'Patient create data is invalid',
    system: SPINE_CODE_SYSTEM,
    severity: 'error',
    version: '1',
  },
  /** POST /Patient found the patient already: HTTP 200 with this OperationOutcome, as Spine answers. */
  SINGLE_MATCH: {
    status: 200,
    issueCode: 'value',
    display: 'Single match found',
    system: SPINE_CODE_SYSTEM,
    severity: 'error',
    version: '1',
  },
  MULTIPLE_MATCHES: {
    status: 200,
    issueCode: 'value',
    display: 'Multiple matches found',
    system: SPINE_CODE_SYSTEM,
    severity: 'error',
    version: '1',
  },
  /** A list in the body has fewer items than it must (Coverage: one card, one payor). */
  TOO_FEW_VALUES_SUBMITTED: {
    status: 400,
    issueCode: 'value',
    display: 'Too few values submitted',
    system: SPINE_CODE_SYSTEM,
    severity: 'error',
    version: '1',
  },
  TOO_MANY_VALUES_SUBMITTED: {
    status: 400,
    issueCode: 'value',
    display: 'Too many values submitted',
    system: SPINE_CODE_SYSTEM,
    severity: 'error',
    version: '1',
  },
  FORBIDDEN_UPDATE: {
    status: 403,
    issueCode: 'forbidden',
    display: 'Update is forbidden',
    system: SPINE_CODE_SYSTEM,
    severity: 'information',
    version: '1',
  },
});

/** The error codes a PDS request can fail with (Spine codes, as the NHS PDS FHIR API returns them). */
export const PDS_ERRORS = {
  INVALID_RESOURCE_ID: PLATFORM_ERRORS.INVALID_RESOURCE_ID,
  RESOURCE_NOT_FOUND: PLATFORM_ERRORS.RESOURCE_NOT_FOUND,
  INVALIDATED_RESOURCE: PLATFORM_ERRORS.INVALIDATED_RESOURCE,
  INVALID_VALUE: PLATFORM_ERRORS.INVALID_VALUE,
  ACCESS_DENIED: PLATFORM_ERRORS.ACCESS_DENIED,
  PRECONDITION_FAILED: PLATFORM_ERRORS.PRECONDITION_FAILED,
  RESOURCE_VERSION_MISMATCH: PLATFORM_ERRORS.RESOURCE_VERSION_MISMATCH,
  ...PDS_OWN_ERRORS,
  UNSUPPORTED_SERVICE: PLATFORM_ERRORS.UNSUPPORTED_SERVICE,
  MISSING_VALUE: PLATFORM_ERRORS.MISSING_VALUE,
  ...PDS_SEARCH_ERRORS,
} as const;

export type PdsErrorCode = keyof typeof PDS_ERRORS;
