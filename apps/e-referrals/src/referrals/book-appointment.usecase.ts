import { Injectable } from '@nestjs/common';
import {
  ERS_EVENTS,
  REFERRER_FUNCTIONS,
  type FhirReply,
  type FhirResource,
  type ResourceRequest,
} from '@platform/contracts-ers';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { DirectoryRepository } from '../directory/directory.repository';
import { actorFor } from '../shared/caller';
import { invalid, referralReference, SYSTEMS } from '../shared/fhir';
import { requireState } from '../shared/states';
import { appointmentResource } from './referral-resource';
import { expectedVersion, isReferrerOf, ReferralChanges } from './referral-changes';
import { ReferralRepository } from './referral.repository';

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
 */
@Injectable()
export class BookAppointmentUseCase {
  constructor(
    private readonly changes: ReferralChanges,
    private readonly referrals: ReferralRepository,
    private readonly directory: DirectoryRepository,
  ) {}

  async execute(request: ResourceRequest, context: CallContext): Promise<FhirReply> {
    const actor = actorFor(context, request.businessFunction, REFERRER_FUNCTIONS);
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
    return this.changes.run(
      {
        context,
        actor,
        operation: 'appointment.create',
        request: { appointment, ifMatch: request.ifMatch ?? null },
        ubrn: referralRef.ubrn,
        version,
        mayAct: isReferrerOf,
      },
      async (transaction, referral, nextVersion) => {
        const shortlist = await this.referrals.shortlist(transaction, referral.ubrn);
        if (!shortlist.includes(serviceId)) {
          throw invalid(`Service ${serviceId} is not on the referral's shortlist`, 'INAPPROPRIATE_VALUE');
        }
        const service = await this.directory.service(serviceId, transaction);
        if (!service?.active) throw invalid(`Service ${serviceId} is not available`, 'REFERENCE_NOT_FOUND');
        let slot: { id: string; start: string; end: string } | undefined;
        if (intent.kind === 'book') {
          requireState('book', referral.state);
          if (service.triage || service.bookableType !== 'DIRECTLY_BOOKABLE') {
            throw invalid(`Service ${serviceId} is not directly bookable`, 'INAPPROPRIATE_VALUE');
          }
          const found = await this.directory.slot(transaction, intent.slotId);
          if (!found) throw invalid(`No slot ${intent.slotId}`, 'REFERENCE_NOT_FOUND');
          if (found.serviceId !== serviceId) {
            throw invalid(`Slot ${intent.slotId} is not a slot of service ${serviceId}`, 'INAPPROPRIATE_SLOT');
          }
          if (Date.parse(found.start) <= Date.now())
            throw invalid(`Slot ${intent.slotId} has started`, 'INAPPROPRIATE_SLOT');
          if (!(await this.directory.takeSlot(transaction, intent.slotId))) {
            throw invalid(`Slot ${intent.slotId} is no longer available`, 'SLOT_NOT_AVAILABLE');
          }
          slot = found;
        } else if (intent.kind === 'defer') {
          requireState('defer', referral.state);
          if (service.triage || service.bookableType !== 'DIRECTLY_BOOKABLE') {
            throw invalid(
              `Service ${serviceId} is not directly bookable: only those take deferrals`,
              'INAPPROPRIATE_VALUE',
            );
          }
          if (intent.reason === 'NO_SLOTS_AT_SERVICE' && (await this.directory.hasFreeSlot(transaction, serviceId))) {
            throw invalid(`Service ${serviceId} has free slots: book one`, 'SLOTS_CURRENTLY_AVAILABLE');
          }
        } else {
          requireState('sendForTriage', referral.state);
          if (!service.triage) throw invalid(`Service ${serviceId} is not a triage service`, 'INAPPROPRIATE_VALUE');
        }
        const status = intent.kind === 'book' ? 'booked' : 'proposed';
        let id: string;
        try {
          id = await this.referrals.insertAppointment(transaction, {
            ubrn: referral.ubrn,
            serviceId,
            slotId: slot?.id ?? null,
            status,
          });
        } catch (error) {
          // The unique index over booked appointments of a slot: the database's own refusal of a second booking.
          if ((error as { code?: string }).code === '23505') {
            throw new PlatformError('SLOT_NOT_AVAILABLE', undefined, { diagnostics: 'Slot is no longer available' });
          }
          throw error;
        }
        const resource = appointmentResource({
          id,
          version: 1,
          status,
          service,
          patientNhsNumber: referral.patientNhsNumber,
          ubrn: referral.ubrn,
          referralVersion: nextVersion,
          ...(slot ? { slot } : {}),
          ...(intent.kind === 'defer'
            ? { reason: intent.reason }
            : intent.kind === 'triage'
              ? { reason: 'TRIAGE' }
              : {}),
          ...(comment ? { comment } : {}),
          created: new Date().toISOString(),
        });
        await this.referrals.saveAppointmentVersion(transaction, {
          id,
          ubrn: referral.ubrn,
          version: 1,
          serviceId,
          slotId: slot?.id ?? null,
          status,
          resource,
        });
        const state =
          intent.kind === 'book' ? 'BOOKED' : intent.kind === 'defer' ? 'DEFERRED_TO_PROVIDER' : 'AWAITING_TRIAGE';
        return {
          referral: { ...referral, state, serviceId, providerOds: service.odsCode, appointmentId: id },
          action: intent.kind === 'book' ? 'BOOK' : intent.kind === 'defer' ? 'DEFER_TO_PROVIDER' : 'SEND_FOR_TRIAGE',
          event:
            intent.kind === 'book'
              ? ERS_EVENTS.referralBooked
              : intent.kind === 'defer'
                ? ERS_EVENTS.referralDeferred
                : ERS_EVENTS.referralSentForTriage,
          ...(intent.kind === 'defer' ? { reason: intent.reason } : {}),
          ...(comment ? { comment } : {}),
          eventDetails: { appointmentId: id },
          reply: { resource, versionId: '1', location: `STU3/Appointment/${id}` },
        };
      },
    );
  }
}
