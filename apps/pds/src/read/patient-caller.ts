import { PDS_READERS } from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';

const STAFF: ReadonlySet<string> = new Set(PDS_READERS);

/**
 * Patient access: a caller who is a patient and nothing else (an NHS login token, role `patient`) reaches
 * only their own record, the NHS number of their token. Checked before any lookup, so another patient's
 * number is refused without saying whether it exists.
 */
export function checkOwnRecord(context: CallContext, nhsNumber: string): void {
  const caller = context.caller;
  if (!caller || caller.roles.some((role) => STAFF.has(role))) return;
  if (caller.nhsNumber === undefined || caller.nhsNumber !== nhsNumber) {
    throw new PlatformError('ACCESS_DENIED', 'Patient cannot perform this action', {
      diagnostics: 'Your access token has insufficient permissions: a patient may only access their own record',
    });
  }
}
