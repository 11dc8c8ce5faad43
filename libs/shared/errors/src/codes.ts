/** FHIR code systems the platform's OperationOutcomes use, as the NHS publishes them. */
export const SPINE_CODE_SYSTEM = 'https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode';
export const HTTP_ERROR_CODE_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/http-error-codes';
export const NHSD_API_CODE_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/NHSD-API-ErrorOrWarningCode';

export type IssueSeverity = 'fatal' | 'error' | 'warning' | 'information';

export interface ErrorDefinition {
  /** HTTP status the NHS uses for this code. */
  status: number;
  /** FHIR issue type (OperationOutcome.issue.code). */
  issueCode: string;
  display: string;
  system: string;
  severity: IssueSeverity;
  /** Spine code systems carry a version. */
  version?: string;
}

function spine(status: number, issueCode: string, display: string, severity: IssueSeverity = 'error'): ErrorDefinition {
  return { status, issueCode, display, system: SPINE_CODE_SYSTEM, severity, version: '1' };
}

function http(status: number, issueCode: string, display: string): ErrorDefinition {
  return { status, issueCode, display, system: HTTP_ERROR_CODE_SYSTEM, severity: 'error' };
}

/**
 * Error codes shared by every FHIR API of the platform (Spine codes and the API platform's HTTP codes).
 * Services add their own codes in their contracts library with `defineErrors`.
 */
export const PLATFORM_ERRORS = {
  ACCESS_DENIED: spine(403, 'forbidden', 'Access Denied - Unauthorised'),
  INVALID_METHOD: spine(403, 'forbidden', 'Your app has insufficient permissions to use this method'),
  INVALID_VALUE: spine(400, 'value', 'Provided value is invalid'),
  MISSING_VALUE: spine(400, 'required', 'Required value is missing'),
  INVALID_RESOURCE_ID: spine(400, 'value', 'Resource Id is invalid'),
  RESOURCE_NOT_FOUND: spine(404, 'not-found', 'Resource not found', 'information'),
  INVALIDATED_RESOURCE: spine(
    404,
    'processing',
    'Resource that has been marked as invalid was requested - invalid resources cannot be retrieved',
  ),
  PRECONDITION_FAILED: spine(412, 'structure', 'Required condition was not fulfilled'),
  RESOURCE_VERSION_MISMATCH: spine(409, 'conflict', 'Resource version supplied does not match actual version'),
  UNSUPPORTED_SERVICE: spine(400, 'processing', 'Unsupported Service'),
  TOO_MANY_REQUESTS: { ...http(429, 'throttled', 'Too many requests'), system: NHSD_API_CODE_SYSTEM },
  REC_BAD_REQUEST: http(400, 'invalid', 'Bad request'),
  REC_NOT_FOUND: http(404, 'not-found', 'Not found'),
  REC_METHOD_NOT_ALLOWED: http(405, 'not-supported', 'Method not allowed'),
  REC_NOT_ACCEPTABLE: http(406, 'not-supported', 'Not acceptable'),
  REC_PAYLOAD_TOO_LARGE: http(413, 'too-long', 'Payload too large'),
  REC_UNSUPPORTED_MEDIA_TYPE: http(415, 'not-supported', 'Unsupported media type'),
  REC_SERVER_ERROR: http(500, 'exception', 'Internal server error'),
  REC_UNAVAILABLE: http(503, 'transient', 'Service unavailable'),
  REC_GATEWAY_TIMEOUT: http(504, 'timeout', 'Gateway timeout'),
} satisfies Record<string, ErrorDefinition>;

export type PlatformErrorCode = keyof typeof PLATFORM_ERRORS;

const registry = new Map<string, ErrorDefinition>(Object.entries(PLATFORM_ERRORS));

/** Registers a service's own error codes (called by its contracts library at import time). */
export function defineErrors<T extends Record<string, ErrorDefinition>>(definitions: T): T {
  for (const [code, definition] of Object.entries(definitions)) {
    const existing = registry.get(code);
    if (existing && JSON.stringify(existing) !== JSON.stringify(definition)) {
      throw new Error(`error code ${code} is already defined differently`);
    }
    registry.set(code, definition);
  }
  return definitions;
}

export function errorDefinition(code: string): ErrorDefinition {
  return registry.get(code) ?? PLATFORM_ERRORS.REC_SERVER_ERROR;
}

export function isKnownErrorCode(code: string): boolean {
  return registry.has(code);
}
