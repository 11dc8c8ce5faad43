import { BUSINESS_FUNCTIONS, businessFunctionsOf, type BusinessFunction } from '@platform/contracts-ers';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';

/** Who is acting, in which business function, for which organisation: established once per request. */
export interface Actor {
  userId: string;
  roles: string[];
  organisation: string;
  businessFunction: BusinessFunction;
}

/**
 * The caller's business function (the NHSD-eRS-Business-Function header): it must be one the caller's roles
 * hold and one the operation allows, else 403 FORBIDDEN. An e-RS call is made for an organisation
 * (NHSD-End-User-Organisation-ODS): without one, 403 too.
 */
export function actorFor(
  context: CallContext,
  requested: BusinessFunction | undefined,
  allowed: readonly BusinessFunction[],
): Actor {
  const caller = context.caller;
  if (!caller) throw new PlatformError('FORBIDDEN', undefined, { diagnostics: 'No verified caller' });
  if (!requested) {
    throw new PlatformError('FORBIDDEN', undefined, {
      diagnostics: 'The NHSD-eRS-Business-Function header is required for this operation',
    });
  }
  const held = businessFunctionsOf(caller.roles);
  if (!held.includes(requested)) {
    throw new PlatformError('FORBIDDEN', undefined, {
      diagnostics: `The user does not hold the business function ${requested} (${BUSINESS_FUNCTIONS[requested]})`,
    });
  }
  if (!allowed.includes(requested)) {
    throw new PlatformError('FORBIDDEN', undefined, {
      diagnostics: `The business function ${requested} may not perform this operation`,
    });
  }
  if (!caller.organisation) {
    throw new PlatformError('FORBIDDEN', undefined, {
      diagnostics: 'The NHSD-End-User-Organisation-ODS header is required for this operation',
    });
  }
  return { userId: caller.id, roles: caller.roles, organisation: caller.organisation, businessFunction: requested };
}

export function isReferrer(actor: Actor): boolean {
  return actor.businessFunction.startsWith('REFERRING_');
}
