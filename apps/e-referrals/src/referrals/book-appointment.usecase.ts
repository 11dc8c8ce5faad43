import { Injectable } from '@nestjs/common';
import {
  ERS_EVENTS,
  REFERRER_FUNCTIONS,
  type FhirReply,
  type FhirResource,
  type ReferralEvent,
  type ResourceRequest,
} from '@platform/contracts-ers';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { Actors } from '../shared/caller';
import { invalid, referralReference, SYSTEMS } from '../shared/fhir';
import { requireState, type ReferralState } from '../shared/states';
import { BookingRepository, lockedOut, type BookingAsk, type ContextRow } from './booking.repository';
import { appointmentResource, referralResource } from './referral-resource';
import { badUbrn, expectedVersion, isReferrerOf } from './referral-changes';
import type { Referral } from './referral.repository';

type Intent = { kind: 'book'; slotId: string } | { kind: 'defer'; reason: string } | { kind: 'triage' };

const DEFERRAL_REASONS = ['NO_SLOTS_AT_SERVICE', 'APPOINTMENT_BOOKING_PROBLEM'];

interface Participant {
  actor?: { identifier?: { system?: unknown; value?: unknown } };
}

function intentOf(appointment: FhirResource): Intent {
  const status = appointment['status'];
  if (status === 'booked') {
    const reference = (appointment['slot'] as { reference?: unknown }[] | undefined)?.[0]?.reference;
    const slotId = typeof reference === 'string' ? /^Slot\/([0-9]{1,15})$/.exec(reference)?.[1] : undefined;
    if (!slotId) throw invalid("A booking needs slot[0].reference 'Slot/{id}'", 'MISSING_VALUE');
    return { kind: 'book', slotId };
  }
  if (status === 'proposed') {
    const reason = (appointment['reason'] as { coding?: { system?: unknown; code?: unknown }[] }[] | undefined)?.[0]
      ?.coding?.[0];
    if (reason?.system !== SYSTEMS.reviewReason || typeof reason.code !== 'string') {
      throw invalid(`A deferral needs reason[0] from ${SYSTEMS.reviewReason}`, 'MISSING_VALUE');
    }
    if (reason.code === 'TRIAGE') return { kind: 'triage' };
    if (DEFERRAL_REASONS.includes(reason.code)) return { kind: 'defer', reason: reason.code };
    throw invalid(`Unknown review reason '${reason.code.slice(0, 40)}'`, 'INVALID_CODE');
  }
  throw invalid("Appointment.status must be 'booked' (book) or 'proposed' (defer or send for triage)");
}

/**
 * A016: book a free slot of a shortlisted directly bookable service (BOOKED), defer to the provider when it
 * has no free slot (DEFERRED_TO_PROVIDER), or send to a shortlisted triage service (AWAITING_TRIAGE). The slot
 * is taken with a conditional UPDATE and held by a unique index: of any number of concurrent bookers of one
 * slot exactly one succeeds; the others get SLOT_NOT_AVAILABLE.
 *
 * Like every referral change it runs once per X-Request-ID, under the referral's row lock taken without waiting
 * (423), with the If-Match version checked (409); unlike the generic change it reads and writes in two statements
 * (BookingRepository), the referral's next resource built from what the first read, and the read goes in the
 * claim's round trip (`runAfterRead`): 3 round trips to PostgreSQL, since booking is the hot path.
 */
@Injectable()
export class BookAppointmentUseCase {
  constructor(
    private readonly actors: Actors,
    private readonly booking: BookingRepository,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
  ) {}

  async execute(request: ResourceRequest, context: CallContext): Promise<FhirReply> {
    const actor = await this.actors.resolve(context, request, REFERRER_FUNCTIONS);
    const appointment = request.resource;
    if (appointment.resourceType !== 'Appointment') throw invalid('The request body must be a FHIR Appointment');
    const referralRef = referralReference(
      (appointment['incomingReferral'] as { reference?: unknown }[] | undefined)?.[0]?.reference,
    );
    if (!referralRef) {
      throw invalid(
        "incomingReferral[0].reference must be 'ReferralRequest/{ubrn}/_history/{version}'",
        'MISSING_VALUE',
      );
    }
    const participants = Array.isArray(appointment['participant']) ? (appointment['participant'] as Participant[]) : [];
    const serviceId = participants
      .map((participant) => participant?.actor?.identifier)
      .find((identifier) => identifier?.system === SYSTEMS.ersService)?.value;
    if (typeof serviceId !== 'string' || !/^[0-9]{1,12}$/.test(serviceId)) {
      throw invalid(`participant must name the service (${SYSTEMS.ersService})`, 'MISSING_VALUE');
    }
    const intent = intentOf(appointment);
    const comment = typeof appointment['comment'] === 'string' ? appointment['comment'].slice(0, 2000) : undefined;
    const version = expectedVersion(request.ifMatch, referralRef.version);
    const ubrn = referralRef.ubrn;
    if (!/^[0-9]{12}$/.test(ubrn)) throw badUbrn(ubrn);
    const key = writeKey(context, 'appointment.create', { appointment, ifMatch: request.ifMatch ?? null });
    let reply: FhirReply;
    try {
      const ask: BookingAsk = {
        ubrn,
        serviceId,
        slotId: intent.kind === 'book' ? intent.slotId : null,
        askFreeSlot: intent.kind === 'defer' && intent.reason === 'NO_SLOTS_AT_SERVICE',
      };
      reply = await this.writes.runAfterRead<ContextRow, FhirReply>(
        key,
        (claimed) => this.booking.loadStatement(ask, claimed),
        async (transaction, rows) => {
          const loaded = this.booking.contextOf(rows);
          if (!loaded) throw new PlatformError('RESOURCE_NOT_FOUND', undefined, { diagnostics: `No referral ${ubrn}` });
          const { referral, service } = loaded;
          if (!isReferrerOf(referral, actor)) {
            throw new PlatformError('NO_RELATIONSHIP', undefined, {
              diagnostics: `${actor.organisation} has no relationship with referral ${ubrn}`,
            });
          }
          if (referral.version !== version) {
            throw new PlatformError('RESOURCE_VERSION_MISMATCH', undefined, {
              diagnostics: `The referral is at version ${referral.version}, not ${version}`,
            });
          }
          const nextVersion = referral.version + 1;
          if (!loaded.shortlist.some((item) => item.id === serviceId)) {
            throw invalid(`Service ${serviceId} is not on the referral's shortlist`, 'INAPPROPRIATE_VALUE');
          }
          if (!service?.active) throw invalid(`Service ${serviceId} is not available`, 'REFERENCE_NOT_FOUND');
          let slot: { id: string; start: string; end: string } | undefined;
          if (intent.kind === 'book') {
            requireState('book', referral.state);
            if (service.triage || service.bookableType !== 'DIRECTLY_BOOKABLE') {
              throw invalid(`Service ${serviceId} is not directly bookable`, 'INAPPROPRIATE_VALUE');
            }
            const found = loaded.slot;
            if (!found) throw invalid(`No slot ${intent.slotId}`, 'REFERENCE_NOT_FOUND');
            if (found.serviceId !== serviceId) {
              throw invalid(`Slot ${intent.slotId} is not a slot of service ${serviceId}`, 'INAPPROPRIATE_SLOT');
            }
            if (Date.parse(found.start) <= Date.now())
              throw invalid(`Slot ${intent.slotId} has started`, 'INAPPROPRIATE_SLOT');
            slot = { id: found.id, start: found.start, end: found.end };
          } else if (intent.kind === 'defer') {
            requireState('defer', referral.state);
            if (service.triage || service.bookableType !== 'DIRECTLY_BOOKABLE') {
              throw invalid(
                `Service ${serviceId} is not directly bookable: only those take deferrals`,
                'INAPPROPRIATE_VALUE',
              );
            }
            if (intent.reason === 'NO_SLOTS_AT_SERVICE' && loaded.hasFreeSlot) {
              throw invalid(`Service ${serviceId} has free slots: book one`, 'SLOTS_CURRENTLY_AVAILABLE');
            }
          } else {
            requireState('sendForTriage', referral.state);
            if (!service.triage) throw invalid(`Service ${serviceId} is not a triage service`, 'INAPPROPRIATE_VALUE');
          }
          const status = intent.kind === 'book' ? 'booked' : 'proposed';
          const id = loaded.appointmentId;
          const reason = intent.kind === 'defer' ? intent.reason : intent.kind === 'triage' ? 'TRIAGE' : undefined;
          const resource = appointmentResource({
            id,
            version: 1,
            status,
            service,
            patientNhsNumber: referral.patientNhsNumber,
            ubrn,
            referralVersion: nextVersion,
            ...(slot ? { slot } : {}),
            ...(reason ? { reason } : {}),
            ...(comment ? { comment } : {}),
            created: new Date().toISOString(),
          });
          const state: ReferralState =
            intent.kind === 'book' ? 'BOOKED' : intent.kind === 'defer' ? 'DEFERRED_TO_PROVIDER' : 'AWAITING_TRIAGE';
          const next: Referral = {
            ...referral,
            version: nextVersion,
            state,
            serviceId,
            providerOds: service.odsCode,
            appointmentId: id,
          };
          const deferral = intent.kind === 'defer' ? intent.reason : undefined;
          const event: ReferralEvent = {
            ubrn,
            versionId: nextVersion,
            state,
            referrerOdsCode: next.referrerOds,
            providerOdsCode: service.odsCode,
            serviceId,
            ...(deferral ? { reason: deferral } : {}),
            appointmentId: id,
            occurredAt: new Date().toISOString(),
          };
          let written: boolean;
          try {
            written = await this.booking.write(transaction, {
              ubrn,
              nextVersion,
              state,
              serviceId,
              providerOds: service.odsCode,
              appointmentId: id,
              slotId: slot?.id ?? null,
              status,
              appointment: resource,
              action:
                intent.kind === 'book' ? 'BOOK' : intent.kind === 'defer' ? 'DEFER_TO_PROVIDER' : 'SEND_FOR_TRIAGE',
              reason: deferral ?? null,
              comment: comment ?? null,
              referral: referralResource(next, loaded.shortlist, resource),
              changedBy: actor.userId,
              changedByOds: actor.organisation,
              event: {
                subject:
                  intent.kind === 'book'
                    ? ERS_EVENTS.referralBooked
                    : intent.kind === 'defer'
                      ? ERS_EVENTS.referralDeferred
                      : ERS_EVENTS.referralSentForTriage,
                payload: event,
              },
              context,
            });
          } catch (error) {
            // The unique index over booked appointments of a slot: the database's own refusal of a second booking.
            if ((error as { code?: string }).code === '23505') {
              throw new PlatformError('SLOT_NOT_AVAILABLE', undefined, { diagnostics: 'Slot is no longer available' });
            }
            throw error;
          }
          if (!written) throw invalid(`Slot ${slot?.id ?? ''} is no longer available`, 'SLOT_NOT_AVAILABLE');
          return { resource, versionId: '1', location: `STU3/Appointment/${id}` };
        },
      );
    } catch (error) {
      if (lockedOut(error)) {
        throw new PlatformError('REFERRAL_LOCKED', undefined, {
          diagnostics: `Referral ${ubrn} is being updated by another request; fetch it again and retry`,
        });
      }
      throw error;
    }
    this.outbox.kick();
    return reply;
  }
}
