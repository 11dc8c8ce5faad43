import { Injectable } from '@nestjs/common';
import { PROVIDER_FUNCTIONS, type ResourceRequest, type WorklistReply } from '@platform/contracts-ers';
import type { CallContext } from '@platform/shared-nats';
import { concept, PRIORITIES } from '../reference/code-systems';
import { ReferralRepository } from '../referrals/referral.repository';
import { Actors } from '../shared/caller';
import { invalid, parameter, parametersOf, refuseUnknown } from '../shared/fhir';
import type { ReferralState } from '../shared/states';

/**
 * The NHS worklist types (eRS-ReferralListSelector-1) and the states each lists (each type read from its own
 * index, migration 1796700000030: a change here needs one there). A referral whose booked
 * appointment the provider cancelled to action later (A022, TRIAGED_PROVIDER_TO_ACTION) waits for the provider's
 * admin team to book it: the e-RS specification puts it on the provider's "Appointments For Booking" worklist, and
 * AWAITING_BOOKING is described as holding referrals "that have had their appointment booking cancelled".
 */
export const WORKLISTS: Record<string, readonly ReferralState[]> = {
  REFERRALS_FOR_REVIEW: ['BOOKED', 'AWAITING_TRIAGE'],
  AWAITING_BOOKING: ['DEFERRED_TO_PROVIDER', 'ACCEPTED', 'TRIAGED_PROVIDER_TO_ACTION'],
};

/** The most referrals one worklist answers. */
export const WORKLIST_LIMIT = 5000;

/** A008: the caller's organisation's worklist of a type, optionally of one priority or some services. */
@Injectable()
export class WorklistUseCase {
  constructor(
    private readonly actors: Actors,
    private readonly referrals: ReferralRepository,
  ) {}

  async execute(request: ResourceRequest, context: CallContext): Promise<WorklistReply<number>> {
    const actor = await this.actors.resolve(context, request, PROVIDER_FUNCTIONS);
    const parameters = parametersOf(request.resource, 'parameter');
    refuseUnknown(parameters, ['listType', 'priority', 'service'], 'parameter');
    const listType = (
      parameter(parameters, 'listType')?.['valueCodeableConcept'] as { coding?: { code?: unknown }[] } | undefined
    )?.coding?.[0]?.code;
    if (typeof listType !== 'string') throw invalid('parameter listType is required', 'MISSING_VALUE');
    const states = WORKLISTS[listType];
    if (!states) throw invalid(`Unknown worklist type '${listType.slice(0, 40)}'`, 'INVALID_CODE');
    const priority = parameter(parameters, 'priority')?.valueCoding?.code;
    if (priority !== undefined && !concept(PRIORITIES, priority))
      throw invalid(`Unknown priority '${priority}'`, 'INVALID_CODE');
    const serviceIds = parameters
      .filter((item) => item.name === 'service')
      .map((item) => item.valueIdentifier?.value)
      .filter((value): value is string => typeof value === 'string' && /^[0-9]{1,12}$/.test(value));
    const { total, rows, services } = await this.referrals.worklist(actor.organisation, states, {
      ...(priority ? { priority } : {}),
      ...(serviceIds.length ? { serviceIds } : {}),
      limit: WORKLIST_LIMIT,
    });
    return { listType, total, rows, services };
  }
}
