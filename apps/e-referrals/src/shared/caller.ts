import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { BUSINESS_FUNCTIONS, businessFunctionsOf, type BusinessFunction } from '@platform/contracts-ers';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { PractitionersRepository } from '../provider/practitioners.repository';

/** Who is acting, in which business function, for which organisation: established once per request. */
export interface Actor {
  userId: string;
  roles: string[];
  organisation: string;
  businessFunction: BusinessFunction;
  /**
   * The provider clinician (SDS user id) a SERVICE_PROVIDER_CLINICIAN_ADMIN acts on behalf of: the
   * NHSD-eRS-On-Behalf-Of-User-ID header, checked. Absent for every other business function.
   */
  onBehalfOf?: string;
}

/** What a request says about how its caller acts: the NHSD-eRS-Business-Function and -On-Behalf-Of-User-ID headers. */
export interface ActingAs {
  businessFunction?: BusinessFunction | undefined;
  onBehalfOf?: string | undefined;
}

/** The one business function that acts on behalf of another user (a SERVICE_PROVIDER_CLINICIAN). */
export const ON_BEHALF_OF_FUNCTION: BusinessFunction = 'SERVICE_PROVIDER_CLINICIAN_ADMIN';

/** An SDS user id, as the directory takes a service's clinicians (`service-resource.ts`): digits only. */
const SDS_USER_ID = /^\d{6,20}$/;

function forbidden(diagnostics: string): PlatformError {
  return new PlatformError('FORBIDDEN', undefined, { diagnostics });
}

/**
 * The caller's business function (the NHSD-eRS-Business-Function header): it must be one the caller's roles
 * hold and one the operation allows, else 403 FORBIDDEN. An e-RS call is made for an organisation
 * (NHSD-End-User-Organisation-ODS): without one, 403 too.
 *
 * The NHSD-eRS-On-Behalf-Of-User-ID header, as the NHS e-RS API specification has it: required with
 * SERVICE_PROVIDER_CLINICIAN_ADMIN, refused with any other business function, an SDS user id; each 403
 * FORBIDDEN. Whether the clinician it names is one the admin may act for (A040's list) is `Actors.resolve`'s
 * check, which every operation but A040 makes. A040 (`onBehalfOf: 'not-taken'`) is how the admin learns whom to
 * name: it does not take the header.
 */
export function actorFor(
  context: CallContext,
  acting: ActingAs,
  allowed: readonly BusinessFunction[],
  options: { onBehalfOf?: 'not-taken' } = {},
): Actor {
  const caller = context.caller;
  if (!caller) throw forbidden('No verified caller');
  const requested = acting.businessFunction;
  if (!requested) throw forbidden('The NHSD-eRS-Business-Function header is required for this operation');
  const held = businessFunctionsOf(caller.roles);
  if (!held.includes(requested)) {
    throw forbidden(`The user does not hold the business function ${requested} (${BUSINESS_FUNCTIONS[requested]})`);
  }
  if (!allowed.includes(requested))
    throw forbidden(`The business function ${requested} may not perform this operation`);
  if (!caller.organisation) {
    throw forbidden('The NHSD-End-User-Organisation-ODS header is required for this operation');
  }
  const actor: Actor = {
    userId: caller.id,
    roles: caller.roles,
    organisation: caller.organisation,
    businessFunction: requested,
  };
  if (options.onBehalfOf === 'not-taken') return actor;
  const onBehalfOf = acting.onBehalfOf;
  if (requested !== ON_BEHALF_OF_FUNCTION) {
    if (onBehalfOf !== undefined) {
      throw forbidden(
        `An On-Behalf-Of User ID (NHSD-eRS-On-Behalf-Of-User-ID) may only be given with the ${ON_BEHALF_OF_FUNCTION} business function`,
      );
    }
    return actor;
  }
  if (onBehalfOf === undefined || onBehalfOf === '') {
    throw forbidden(
      `With the ${ON_BEHALF_OF_FUNCTION} business function the NHSD-eRS-On-Behalf-Of-User-ID header (the SDS user id of the clinician acted for) is required`,
    );
  }
  if (!SDS_USER_ID.test(onBehalfOf)) {
    throw forbidden('The NHSD-eRS-On-Behalf-Of-User-ID header is not an SDS user id');
  }
  return { ...actor, onBehalfOf };
}

export function isReferrer(actor: Actor): boolean {
  return actor.businessFunction.startsWith('REFERRING_');
}

/** How long an answer to "may this organisation's admin act for this clinician" is reused. */
export const ON_BEHALF_OF_CACHE_MS = 30_000;
/** The most answers kept (the least recently used go first). */
const ON_BEHALF_OF_CACHE_ENTRIES = 10_000;

/**
 * The caller of every e-RS operation but A040: `actorFor`, and for a SERVICE_PROVIDER_CLINICIAN_ADMIN the check
 * that the clinician named is one A040 lists for the organisation acted for (a clinician the organisation names
 * on one of its active services); another is 403 FORBIDDEN. The answer, yes or no, is kept for
 * ON_BEHALF_OF_CACHE_MS (so a worklist poll does not query the directory each time), and concurrent first asks
 * share one query; a clinician taken off the organisation's services may still be acted for until then. A query
 * that fails is not kept: the next ask queries again.
 */
@Injectable()
export class Actors {
  private readonly answers = new LRUCache<string, boolean, { organisation: string; sdsUserId: string }>({
    max: ON_BEHALF_OF_CACHE_ENTRIES,
    ttl: ON_BEHALF_OF_CACHE_MS,
    // An ask still in flight when its entry is pushed out answers those waiting on it all the same.
    ignoreFetchAbort: true,
    fetchMethod: (_key, _stale, { context }) =>
      this.practitioners.isNamedClinician(context.organisation, context.sdsUserId),
  });

  constructor(private readonly practitioners: PractitionersRepository) {}

  async resolve(context: CallContext, acting: ActingAs, allowed: readonly BusinessFunction[]): Promise<Actor> {
    const actor = actorFor(context, acting, allowed);
    if (actor.onBehalfOf !== undefined && !(await this.mayActFor(actor.organisation, actor.onBehalfOf))) {
      throw forbidden(
        `The user ${actor.onBehalfOf} is not a clinician the ${ON_BEHALF_OF_FUNCTION} may act on behalf of at ${actor.organisation}`,
      );
    }
    return actor;
  }

  private async mayActFor(organisation: string, sdsUserId: string): Promise<boolean> {
    const allowed = await this.answers.fetch(`${organisation} ${sdsUserId}`, { context: { organisation, sdsUserId } });
    return allowed === true;
  }
}
