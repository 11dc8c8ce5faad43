import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import type { FhirReply, ReferralEvent } from '@platform/contracts-ers';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { DirectoryRepository } from '../directory/directory.repository';
import type { Actor } from '../shared/caller';
import { versionFromIfMatch } from '../shared/fhir';
import { referralResource, type StateDetail } from './referral-resource';
import { ReferralLocked, ReferralRepository, type Referral } from './referral.repository';

/** What one change did: the referral after it, the history entry and event, and what to answer if not the referral. */
export interface ChangeOutcome {
  referral: Referral;
  action: string;
  event: string;
  reason?: string;
  comment?: string;
  /** The new shortlist, when the change replaced it. */
  shortlist?: string[];
  eventDetails?: Partial<ReferralEvent>;
  /** The answer, when it is not the referral (A016 answers the Appointment). */
  reply?: FhirReply;
  /** The reason and comments the referral's state extension carries (A022's CANCEL_APPOINTMENT_ACTION_LATER). */
  stateDetail?: StateDetail;
}

export function badUbrn(ubrn: string): PlatformError {
  return new PlatformError('INVALID_VALUE', undefined, {
    diagnostics: `'${ubrn.slice(0, 20)}' is not a UBRN (12 digits)`,
  });
}

/** The version a write expects, from If-Match (or, for A016, the versioned incomingReferral reference). */
export function expectedVersion(ifMatch: string | undefined, fromBody?: number): number {
  if (ifMatch !== undefined) {
    const version = versionFromIfMatch(ifMatch);
    if (version === undefined) {
      throw new PlatformError('PRECONDITION_FAILED', undefined, {
        diagnostics: `If-Match must be W/"<version>", not '${ifMatch.slice(0, 32)}'`,
      });
    }
    return version;
  }
  if (fromBody !== undefined) return fromBody;
  throw new PlatformError('PRECONDITION_FAILED', undefined, {
    diagnostics: 'If-Match must be supplied with the version of the referral being changed',
  });
}

/**
 * Every change to a referral runs here: once per X-Request-ID, the referral locked without waiting (a concurrent
 * write gets 423), its version checked against If-Match (409 when stale), then the change, the next version of
 * the resource kept for versioned reads and the state history, and the event in the same transaction.
 */
@Injectable()
export class ReferralChanges {
  constructor(
    private readonly referrals: ReferralRepository,
    private readonly directory: DirectoryRepository,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
  ) {}

  async run(
    params: {
      context: CallContext;
      actor: Actor;
      operation: string;
      request: unknown;
      ubrn: string;
      /** The referral version If-Match names; undefined when the operation checks another resource's version. */
      version: number | undefined;
      /** Whether this actor may act on this referral (NO_RELATIONSHIP otherwise). */
      mayAct: (referral: Referral, actor: Actor) => boolean;
    },
    work: (transaction: PoolClient, referral: Referral, nextVersion: number) => Promise<ChangeOutcome>,
  ): Promise<FhirReply> {
    const { context, actor } = params;
    if (!/^[0-9]{12}$/.test(params.ubrn)) throw badUbrn(params.ubrn);
    const key = writeKey(context, params.operation, params.request);
    let reply: FhirReply;
    try {
      reply = await this.writes.run(key, async (transaction) => {
        const referral = await this.referrals.lock(transaction, params.ubrn);
        if (!referral) {
          throw new PlatformError('RESOURCE_NOT_FOUND', undefined, { diagnostics: `No referral ${params.ubrn}` });
        }
        if (!params.mayAct(referral, actor)) {
          throw new PlatformError('NO_RELATIONSHIP', undefined, {
            diagnostics: `${actor.organisation} has no relationship with referral ${params.ubrn}`,
          });
        }
        if (params.version !== undefined && referral.version !== params.version) {
          throw new PlatformError('RESOURCE_VERSION_MISMATCH', undefined, {
            diagnostics: `The referral is at version ${referral.version}, not ${params.version}`,
          });
        }
        const nextVersion = referral.version + 1;
        const outcome = await work(transaction, referral, nextVersion);
        const next: Referral = { ...outcome.referral, version: nextVersion };
        return this.save(transaction, next, outcome, actor, context);
      });
    } catch (error) {
      if (error instanceof ReferralLocked) {
        throw new PlatformError('REFERRAL_LOCKED', undefined, {
          diagnostics: `Referral ${params.ubrn} is being updated by another request; fetch it again and retry`,
        });
      }
      throw error;
    }
    this.outbox.kick();
    return reply;
  }

  /** Writes the next version (also used by create, inside its own write). */
  async save(
    transaction: PoolClient,
    next: Referral,
    outcome: ChangeOutcome,
    actor: Actor,
    context: CallContext,
  ): Promise<FhirReply> {
    if (outcome.shortlist) await this.referrals.replaceShortlist(transaction, next.ubrn, outcome.shortlist);
    await this.referrals.update(transaction, next);
    const ids = outcome.shortlist ?? (await this.referrals.shortlist(transaction, next.ubrn));
    const services = await this.directory.services(ids, transaction);
    const byId = new Map(services.map((service) => [service.id, service]));
    const shortlist = ids.map((id) => ({ id, name: byId.get(id)?.name ?? '' }));
    const appointment = next.appointmentId
      ? await this.referrals.appointment(next.appointmentId, transaction)
      : undefined;
    const current = appointment && appointment.status !== 'cancelled' ? appointment.resource : undefined;
    const resource = referralResource(next, shortlist, current, outcome.stateDetail);
    await this.referrals.saveVersion(transaction, {
      referral: next,
      action: outcome.action,
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      ...(outcome.comment ? { comment: outcome.comment.slice(0, 2000) } : {}),
      resource,
      changedBy: actor.userId,
      changedByOds: actor.organisation,
      ...(actor.onBehalfOf === undefined ? {} : { onBehalfOf: actor.onBehalfOf }),
    });
    const event: ReferralEvent = {
      ubrn: next.ubrn,
      versionId: next.version,
      state: next.state,
      referrerOdsCode: next.referrerOds,
      ...(next.providerOds ? { providerOdsCode: next.providerOds } : {}),
      ...(next.serviceId ? { serviceId: next.serviceId } : {}),
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      ...outcome.eventDetails,
      occurredAt: new Date().toISOString(),
    };
    await this.outbox.append(transaction, outcome.event, event, context);
    return outcome.reply ?? { resource, versionId: String(next.version) };
  }
}

/** The referrer's organisation may act on its referrals. */
export function isReferrerOf(referral: Referral, actor: Actor): boolean {
  return referral.referrerOds === actor.organisation;
}

/** The provider the referral is with may act on it. */
export function isProviderOf(referral: Referral, actor: Actor): boolean {
  return referral.providerOds !== null && referral.providerOds === actor.organisation;
}
