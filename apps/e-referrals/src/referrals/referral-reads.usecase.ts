import { Injectable } from '@nestjs/common';
import { READER_FUNCTIONS, type FhirReply, type QueryRequest, type ReadRequest } from '@platform/contracts-ers';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { Actors, isReferrer, type Actor } from '../shared/caller';
import { SYSTEMS } from '../shared/fhir';
import { allows, type ReferralState } from '../shared/states';
import { badUbrn } from './referral-changes';
import { ReferralLettersRepository, withLetters } from './referral-letters';
import { ReferralRepository, type Referral } from './referral.repository';

function notFound(what: string): PlatformError {
  return new PlatformError('RESOURCE_NOT_FOUND', undefined, { diagnostics: `No ${what}` });
}

/** Who may see a referral: its referrer's organisation, the provider it is with, and its shortlisted providers. */
function maySee(
  actor: Actor,
  parties: { referrerOds: string; providerOds: string | null; shortlistOds: string[] },
): boolean {
  if (isReferrer(actor)) return parties.referrerOds === actor.organisation;
  return parties.providerOds === actor.organisation || parties.shortlistOds.includes(actor.organisation);
}

/** A005 (referral, current or versioned), A038 (appointment) and A029 (actions allowed now). Every read is audited. */
@Injectable()
export class ReferralReadsUseCase {
  constructor(
    private readonly actors: Actors,
    private readonly referrals: ReferralRepository,
    private readonly letters: ReferralLettersRepository,
  ) {}

  async referral(request: ReadRequest, context: CallContext): Promise<FhirReply> {
    const actor = await this.actors.resolve(context, request, READER_FUNCTIONS);
    if (!/^[0-9]{12}$/.test(request.id)) throw badUbrn(request.id);
    const version = request.version === undefined ? undefined : Number(request.version);
    const found = await this.referrals.readAudited(request.id, version, version ? 'A005_VERSION' : 'A005', {
      ...context,
      businessFunction: actor.businessFunction,
      ...(actor.onBehalfOf === undefined ? {} : { onBehalfOf: actor.onBehalfOf }),
    });
    if (!found) throw notFound(version ? `version ${version} of referral ${request.id}` : `referral ${request.id}`);
    if (!maySee(actor, found)) {
      throw new PlatformError('FORBIDDEN', undefined, {
        diagnostics: `${actor.organisation} has no relationship with referral ${request.id}`,
      });
    }
    // The current version lists the referral's letters (A012) as the NHS examples do; a past version as it was kept.
    const resource = version ? found.resource : withLetters(found.resource, await this.letters.letters(request.id));
    return { resource, versionId: String(found.version) };
  }

  async appointment(request: ReadRequest, context: CallContext): Promise<FhirReply> {
    const actor = await this.actors.resolve(context, request, READER_FUNCTIONS);
    const appointment = await this.referrals.appointment(request.id);
    if (!appointment) throw notFound(`appointment ${request.id.slice(0, 20)}`);
    const found = await this.referrals.readAudited(appointment.ubrn, undefined, 'A038', {
      ...context,
      businessFunction: actor.businessFunction,
      ...(actor.onBehalfOf === undefined ? {} : { onBehalfOf: actor.onBehalfOf }),
    });
    if (!found || !maySee(actor, found)) {
      throw new PlatformError('FORBIDDEN', undefined, {
        diagnostics: `${actor.organisation} has no relationship with appointment ${request.id}`,
      });
    }
    if (request.version !== undefined) {
      const resource = await this.referrals.appointmentVersion(request.id, Number(request.version));
      if (!resource) throw notFound(`version ${request.version} of appointment ${request.id}`);
      return { resource, versionId: request.version };
    }
    return { resource: appointment.resource, versionId: String(appointment.version) };
  }

  /** A029: `focus=ReferralRequest/{ubrn}/_history/{version}&intent=proposal&status=ready`. */
  async actions(request: QueryRequest, context: CallContext): Promise<FhirReply> {
    const actor = await this.actors.resolve(context, request, READER_FUNCTIONS);
    const focus = request.query['focus'];
    const match =
      typeof focus === 'string' ? /^ReferralRequest\/([0-9]{12})\/_history\/([0-9]{1,9})$/.exec(focus) : null;
    if (!match?.[1] || !match[2]) {
      throw new PlatformError('INVALID_VALUE', undefined, {
        diagnostics: "focus must be 'ReferralRequest/{ubrn}/_history/{version}'",
      });
    }
    const [, ubrn, version] = match;
    const found = await this.referrals.readAudited(ubrn, Number(version), 'A029', {
      ...context,
      businessFunction: actor.businessFunction,
      ...(actor.onBehalfOf === undefined ? {} : { onBehalfOf: actor.onBehalfOf }),
    });
    if (!found) throw notFound(`version ${version} of referral ${ubrn}`);
    if (!maySee(actor, found)) {
      throw new PlatformError('FORBIDDEN', undefined, {
        diagnostics: `${actor.organisation} has no relationship with referral ${ubrn}`,
      });
    }
    const referral = (await this.referrals.find(ubrn)) as Referral;
    const codes = referral.version === Number(version) ? actionsFor(actor, referral) : [];
    return {
      resource: {
        resourceType: 'Bundle',
        type: 'searchset',
        meta: { lastUpdated: new Date().toISOString() },
        link: [{ relation: 'self', url: `_baseUrl_/STU3/Task?focus=${match[0]}&intent=proposal&status=ready` }],
        entry: codes.map((code) => ({
          resource: {
            resourceType: 'Task',
            status: 'ready',
            intent: 'proposal',
            focus: { reference: match[0] },
            code: { coding: [{ system: SYSTEMS.availableActions, code, display: ACTION_DISPLAY[code] }] },
          },
          search: { mode: 'match' },
        })),
      },
    };
  }
}

const ACTION_DISPLAY: Record<string, string> = {
  CREATE_APPOINTMENT: 'Create Appointment',
  DEFER_TO_PROVIDER: 'Defer to Provider',
  SEND_FOR_TRIAGE: 'Send for Triage',
  CHANGE_SHORTLIST: 'Change Shortlist',
  CANCEL_APPOINTMENT: 'Cancel Appointment',
  CANCEL_REFERRAL: 'Cancel Referral',
  ACCEPT_REFERRAL: 'Accept Referral',
  REJECT_REFERRAL: 'Reject Referral',
  RECORD_TRIAGE_OUTCOME: 'Record Triage Outcome',
};

/** What this caller may do with the referral in its current state (the same rules the operations enforce). */
export function actionsFor(actor: Actor, referral: Referral): string[] {
  const state: ReferralState = referral.state;
  const out: string[] = [];
  if (isReferrer(actor)) {
    if (referral.referrerOds !== actor.organisation) return out;
    if (allows('book', state))
      out.push('CREATE_APPOINTMENT', 'DEFER_TO_PROVIDER', 'SEND_FOR_TRIAGE', 'CHANGE_SHORTLIST');
    if (allows('cancelAppointment', state)) out.push('CANCEL_APPOINTMENT');
    if (allows('cancelReferral', state)) out.push('CANCEL_REFERRAL');
    return out;
  }
  if (referral.providerOds !== actor.organisation) return out;
  if (allows('accept', state)) out.push('ACCEPT_REFERRAL');
  if (allows('reject', state)) out.push('REJECT_REFERRAL');
  if (allows('recordReviewOutcome', state)) out.push('RECORD_TRIAGE_OUTCOME');
  if (allows('cancelAppointment', state)) out.push('CANCEL_APPOINTMENT');
  if (allows('cancelReferral', state)) out.push('CANCEL_REFERRAL');
  return out;
}
