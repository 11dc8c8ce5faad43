import { PDS_READERS, PDS_WRITERS } from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';

const STAFF: ReadonlySet<string> = new Set(PDS_READERS);
const WRITERS: ReadonlySet<string> = new Set(PDS_WRITERS);

/**
 * Patient access: a caller who is a patient and nothing else (an NHS login token, role `patient`) reaches
 * only their own record, the NHS number of their token. Checked before any lookup, so another patient's
 * number is refused without saying whether it exists.
 */
export function checkOwnRecord(context: CallContext, nhsNumber: string): void {
  const caller = context.caller;
  if (!caller || caller.roles.some((role) => STAFF.has(role))) return;
  if (caller.nhsNumber === undefined || caller.nhsNumber !== nhsNumber) throw notOwnRecord();
}

function notOwnRecord(): PlatformError {
  return new PlatformError('ACCESS_DENIED', 'Patient cannot perform this action', {
    diagnostics: 'Your access token has insufficient permissions: a patient may only access their own record',
  });
}

/**
 * Healthcare worker update access: a user present holding a role that registers and changes demographics
 * (PDS_WRITERS). A care role that only reads (a pharmacist, a provider's clinician) is not one, whatever other
 * roles the token carries.
 */
export function isHealthcareWriter(context: CallContext): boolean {
  return !isApplicationRestricted(context) && (context.caller?.roles.some((role) => WRITERS.has(role)) ?? false);
}

/**
 * An update by anyone who is not a healthcare writer is a patient's update of their own record: the caller
 * holds `patient` and the token's NHS number is the record's, else 403 ACCESS_DENIED before any lookup. Unlike
 * checkOwnRecord (reads), a reading care role in the same token does not widen it to other records.
 */
export function checkPatientUpdater(context: CallContext, nhsNumber: string): void {
  const caller = context.caller;
  if (!caller?.roles.includes('patient') || caller.nhsNumber === undefined || caller.nhsNumber !== nhsNumber) {
    throw notOwnRecord();
  }
}

/**
 * The NHS's application-restricted access mode: no user present. Read from the access mode signed into the
 * caller statement (ADR 0014); a statement without one (from a gateway older than the claim) is read as
 * application-restricted, the mode that can do least: reads, and a search for a single unique match.
 */
export function isApplicationRestricted(context: CallContext): boolean {
  return context.caller?.accessMode !== 'user-restricted';
}

/**
 * Refuses an operation application-restricted access does not have (update, create, EHIC details), as the
 * gateway does: 403 ACCESS_DENIED. pds checks it again itself, so a gateway route that forgot, or a statement
 * replayed onto another subject's request by someone on the bus, changes nothing.
 */
export function refuseApplicationRestricted(context: CallContext, operation: string): void {
  if (isApplicationRestricted(context)) {
    throw new PlatformError('ACCESS_DENIED', 'Access Denied - Unauthorised', {
      diagnostics: `Application-restricted access cannot ${operation}: it needs a user (healthcare worker or patient access)`,
    });
  }
}

/** Patient access (NHS login): a user present whose roles are `patient` and no care role. */
export function isPatientAccess(context: CallContext): boolean {
  const caller = context.caller;
  return (
    !isApplicationRestricted(context) &&
    caller !== undefined &&
    caller.roles.includes('patient') &&
    !caller.roles.some((role) => STAFF.has(role))
  );
}

/**
 * EHIC details (GET and POST /Coverage) are for patient access only ("You can only use this endpoint if you
 * are using patient access mode"), and a patient's own card only: anyone else is 403 ACCESS_DENIED, the
 * specification's answer to a user who cannot perform the operation. Checked before any lookup.
 */
export function checkPatientAccess(context: CallContext, nhsNumber: string): void {
  checkPatientAccessMode(context);
  checkOwnRecord(context, nhsNumber);
}

/** The first half of checkPatientAccess, for before the NHS number is known. */
export function checkPatientAccessMode(context: CallContext): void {
  refuseApplicationRestricted(context, 'read or update EHIC details');
  if (!isPatientAccess(context)) {
    throw new PlatformError('ACCESS_DENIED', 'Access Denied - Unauthorised', {
      diagnostics: 'EHIC details (Coverage) are available in patient access mode only',
    });
  }
}
