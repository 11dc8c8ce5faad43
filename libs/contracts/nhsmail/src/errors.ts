import { defineErrors, PLATFORM_ERRORS, type ErrorDefinition } from '@platform/shared-errors';

/** nhsmail-relay's own codes: its API is not FHIR, so errors go out as RFC 9457 problem details. */
export const NHSMAIL_CODE_SYSTEM = 'urn:nhs-platform:nhsmail-relay:error-code';

function own(status: number, issueCode: string, display: string): ErrorDefinition {
  return { status, issueCode, display, system: NHSMAIL_CODE_SYSTEM, severity: 'error' };
}

/** Codes are one registry across the platform, so each of the service's own carries its prefix. */
export const NHSMAIL_OWN_ERRORS = defineErrors({
  NHSMAIL_MAILBOX_NOT_FOUND: own(404, 'not-found', 'No such mailbox'),
  NHSMAIL_MAILBOX_EXISTS: own(409, 'duplicate', 'A mailbox with this address already exists'),
  NHSMAIL_NOT_PLATFORM_DOMAIN: own(422, 'business-rule', 'The address is not in one of the platform mail domains'),
  NHSMAIL_MAILBOX_FORBIDDEN: own(
    403,
    'forbidden',
    'Only the mailbox owner or a member of the shared mailbox may use it',
  ),
  NHSMAIL_MESSAGE_NOT_FOUND: own(404, 'not-found', 'No such message in this mailbox'),
  NHSMAIL_MESSAGE_TOO_LARGE: own(413, 'too-long', 'The message is larger than the NHSmail limit'),
  NHSMAIL_BLOCKED_ATTACHMENT: own(422, 'business-rule', 'An attachment is of a blocked type'),
  NHSMAIL_UNKNOWN_RECIPIENT: own(422, 'business-rule', 'No such mailbox in the platform domains'),
});

/** The codes a nhsmail-relay request can fail with. */
export const NHSMAIL_ERRORS = {
  INVALID_VALUE: PLATFORM_ERRORS.INVALID_VALUE,
  ...NHSMAIL_OWN_ERRORS,
} as const;

export type NhsmailRelayErrorCode = keyof typeof NHSMAIL_ERRORS;
