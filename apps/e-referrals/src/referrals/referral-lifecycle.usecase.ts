import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import {
  ERS_EVENTS,
  PROVIDER_FUNCTIONS,
  READER_FUNCTIONS,
  REFERRER_FUNCTIONS,
  type ChangeRequest,
  type FhirReply,
} from '@platform/contracts-ers';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { DirectoryRepository } from '../directory/directory.repository';
import {
  APPOINTMENT_CANCELLATION_REASONS,
  concept,
  PRIORITIES,
  REFERRAL_CANCELLATION_REASONS,
  type Concept,
} from '../reference/code-systems';
import { Actors, isReferrer, type Actor } from '../shared/caller';
import { codeOf, invalid, parameter, parametersOf, refuseUnknown, SYSTEMS, versionFromIfMatch } from '../shared/fhir';
import { requireState, type ReferralState } from '../shared/states';
import { checkShortlisted, shortlistOf } from './create-referral.usecase';
import { expectedVersion, isProviderOf, isReferrerOf, ReferralChanges } from './referral-changes';
import { ReferralRepository, type Referral } from './referral.repository';
import { appointmentResource } from './referral-resource';

/** A reason from `list` (INVALID_CODE otherwise), its comment required when the code system says so. */
function reasonOf(
  request: ChangeRequest,
  names: { reason: string; comment: string },
  list: Concept[],
  allowedTypes: readonly string[],
): { reason: Concept; comment?: string } {
  const parameters = parametersOf(request.resource, 'parameter');
  refuseUnknown(parameters, [names.reason, names.comment], 'parameter');
  const code = codeOf(parameter(parameters, names.reason));
  if (!code) throw invalid(`parameter ${names.reason} is required`, 'MISSING_VALUE');
  const reason = concept(list, code);
  if (!reason) throw invalid(`Unknown ${names.reason} '${code.slice(0, 40)}'`, 'INVALID_CODE');
  if (!allowedTypes.includes(reason.reasonType ?? '')) {
    throw invalid(`${code} is not a reason this user may give here`, 'INAPPROPRIATE_VALUE');
  }
  const comment = parameter(parameters, names.comment)?.valueString;
  if (reason.commentIsMandatory && (typeof comment !== 'string' || comment.trim() === '')) {
    throw invalid(`${code} needs ${names.comment}`, 'MISSING_VALUE');
  }
  return { reason, ...(typeof comment === 'string' ? { comment: comment.slice(0, 2000) } : {}) };
}

function mayActEitherSide(referral: Referral, actor: Actor): boolean {
  return isReferrer(actor) ? isReferrerOf(referral, actor) : isProviderOf(referral, actor);
}

/** Ends the referral's current appointment (cancelled, its slot free again) at `nextVersion` of the referral. */
async function endAppointment(
  referrals: ReferralRepository,
  directory: DirectoryRepository,
  transaction: PoolClient,
  referral: Referral,
  nextVersion: number,
  reason: string,
): Promise<void> {
  if (!referral.appointmentId) return;
  const appointment = await referrals.appointment(referral.appointmentId, transaction);
  if (!appointment || appointment.status === 'cancelled') return;
  if (appointment.slotId && appointment.status === 'booked')
    await directory.releaseSlot(transaction, appointment.slotId);
  const version = appointment.version + 1;
  await referrals.saveAppointmentVersion(transaction, {
    ...appointment,
    version,
    status: 'cancelled',
    resource: {
      ...appointment.resource,
      meta: { ...(appointment.resource['meta'] as object), versionId: String(version) },
      status: 'cancelled',
      extension: [
        {
          url: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-AppointmentCancellationReason-1',
          valueCoding: { code: reason },
        },
      ],
      incomingReferral: [{ reference: `ReferralRequest/${referral.ubrn}/_history/${nextVersion}` }],
    },
  });
}

/** A036: cancel a referral (and its current appointment) with a REFERRAL-CANCELLATION-REASON. */
@Injectable()
export class CancelReferralUseCase {
  constructor(
    private readonly actors: Actors,
    private readonly changes: ReferralChanges,
    private readonly referrals: ReferralRepository,
    private readonly directory: DirectoryRepository,
  ) {}

  async execute(request: ChangeRequest, context: CallContext): Promise<FhirReply> {
    const actor = await this.actors.resolve(
      context,
      request,
      READER_FUNCTIONS.filter((fn) => fn !== 'REFERRING_ADMIN'),
    );
    const referrer = isReferrer(actor);
    const version = expectedVersion(request.ifMatch);
    const { reason, comment } = reasonOf(
      request,
      { reason: 'cancellationReason', comment: 'cancellationComments' },
      REFERRAL_CANCELLATION_REASONS,
      referrer ? ['REFERRER', 'PATIENT'] : ['PROVIDER', 'PATIENT', 'PROVIDER_TRIAGE'],
    );
    return this.changes.run(
      { context, actor, operation: 'referral.cancel', request, ubrn: request.id, version, mayAct: mayActEitherSide },
      async (transaction, referral, nextVersion) => {
        requireState('cancelReferral', referral.state);
        if (!referrer && (referral.state === 'AWAITING_TRIAGE') !== (reason.reasonType === 'PROVIDER_TRIAGE')) {
          throw invalid(
            'A referral awaiting triage is cancelled with a triage-ending reason, and only it',
            'INAPPROPRIATE_VALUE',
          );
        }
        await endAppointment(this.referrals, this.directory, transaction, referral, nextVersion, reason.code);
        return {
          referral: { ...referral, state: 'CANCELLED_REFERRAL' },
          action: 'CANCEL_REFERRAL',
          event: ERS_EVENTS.referralCancelled,
          reason: reason.code,
          ...(comment ? { comment } : {}),
        };
      },
    );
  }
}

/** A034: cancel the booked appointment (PUT Appointment, status cancelled); If-Match is the appointment's version. */
@Injectable()
export class CancelAppointmentUseCase {
  constructor(
    private readonly actors: Actors,
    private readonly changes: ReferralChanges,
    private readonly referrals: ReferralRepository,
    private readonly directory: DirectoryRepository,
  ) {}

  async execute(request: ChangeRequest, context: CallContext): Promise<FhirReply> {
    const actor = await this.actors.resolve(
      context,
      request,
      READER_FUNCTIONS.filter((fn) => fn !== 'REFERRING_ADMIN'),
    );
    const body = request.resource;
    if (body?.resourceType !== 'Appointment' || body['status'] !== 'cancelled') {
      throw invalid("The body must be the Appointment with status 'cancelled'");
    }
    if (request.ifMatch === undefined) {
      throw new PlatformError('PRECONDITION_FAILED', undefined, { diagnostics: 'If-Match must be supplied' });
    }
    const appointmentVersion = versionFromIfMatch(request.ifMatch);
    if (appointmentVersion === undefined) {
      throw new PlatformError('PRECONDITION_FAILED', undefined, { diagnostics: 'If-Match must be W/"<version>"' });
    }
    const reasonCode = (body['extension'] as { valueCoding?: { code?: unknown } }[] | undefined)
      ?.map((item) => item?.valueCoding?.code)
      .find((code) => typeof code === 'string');
    const reason = concept(APPOINTMENT_CANCELLATION_REASONS, reasonCode);
    if (!reason || reason.usage !== 'CANCEL') {
      throw invalid(
        'The cancellation needs an APPOINTMENT-CANCELLATION-REASON for cancelling (extension valueCoding)',
        'INVALID_CODE',
      );
    }
    const referrer = isReferrer(actor);
    if (referrer ? reason.reasonType !== 'PATIENT' : reason.reasonType !== 'PROVIDER') {
      throw invalid(`${reason.code} is not a reason this user may give`, 'INAPPROPRIATE_VALUE');
    }
    const appointment = await this.referrals.appointment(request.id);
    if (!appointment)
      throw new PlatformError('RESOURCE_NOT_FOUND', undefined, {
        diagnostics: `No appointment ${request.id.slice(0, 20)}`,
      });
    const state: ReferralState = referrer ? 'APPT_CANCELLED_BY_PATIENT' : 'APPT_CANCELLED_BY_PROVIDER';
    return this.changes.run(
      {
        context,
        actor,
        operation: 'appointment.cancel',
        request,
        ubrn: appointment.ubrn,
        version: undefined,
        mayAct: mayActEitherSide,
      },
      async (transaction, referral, nextVersion) => {
        const current = await this.referrals.appointment(request.id, transaction);
        if (!current || referral.appointmentId !== current.id) {
          throw invalid(`Appointment ${request.id} is not the referral's current appointment`, 'INVALID_REQUEST_STATE');
        }
        if (current.version !== appointmentVersion) {
          throw new PlatformError('RESOURCE_VERSION_MISMATCH', undefined, {
            diagnostics: `The appointment is at version ${current.version}, not ${appointmentVersion}`,
          });
        }
        requireState('cancelAppointment', referral.state);
        await endAppointment(this.referrals, this.directory, transaction, referral, nextVersion, reason.code);
        const ended = await this.referrals.appointment(request.id, transaction);
        return {
          referral: { ...referral, state },
          action: 'CANCEL_APPOINTMENT',
          event: ERS_EVENTS.appointmentCancelled,
          reason: reason.code,
          eventDetails: { appointmentId: current.id },
          reply: {
            resource: ended?.resource ?? current.resource,
            versionId: String(ended?.version ?? current.version),
          },
        };
      },
    );
  }
}

/** A031 change shortlist (back to NOT_BOOKED); A032 change it and send for triage to its one triage service. */
@Injectable()
export class ChangeShortlistUseCase {
  constructor(
    private readonly actors: Actors,
    private readonly changes: ReferralChanges,
    private readonly referrals: ReferralRepository,
    private readonly directory: DirectoryRepository,
  ) {}

  async execute(request: ChangeRequest, context: CallContext, sendForTriage: boolean): Promise<FhirReply> {
    const actor = await this.actors.resolve(context, request, REFERRER_FUNCTIONS);
    const version = expectedVersion(request.ifMatch);
    const parameters = parametersOf(request.resource, 'parameter');
    refuseUnknown(parameters, ['shortlist'], 'parameter');
    const { serviceIds, criteria } = shortlistOf(parameter(parameters, 'shortlist')?.resource, 'parameter/shortlist');
    const services = checkShortlisted(serviceIds, await this.directory.services(serviceIds), criteria);
    const target = sendForTriage ? services[0] : undefined;
    if (sendForTriage && (services.length !== 1 || !target?.triage)) {
      throw invalid('Change shortlist and send for triage takes exactly one triage service', 'INAPPROPRIATE_VALUE');
    }
    return this.changes.run(
      {
        context,
        actor,
        operation: sendForTriage ? 'referral.shortlist-triage' : 'referral.shortlist',
        request: { ...request, sendForTriage },
        ubrn: request.id,
        version,
        mayAct: isReferrerOf,
      },
      async (transaction, referral, nextVersion) => {
        requireState(sendForTriage ? 'sendForTriage' : 'changeShortlist', referral.state);
        if (criteria.priority !== referral.priority) {
          throw invalid('The priority of a referral does not change with its shortlist', 'INAPPROPRIATE_VALUE');
        }
        await endAppointment(this.referrals, this.directory, transaction, referral, nextVersion, 'SHORTLIST_CHANGED');
        return {
          referral: {
            ...referral,
            state: target ? 'AWAITING_TRIAGE' : 'NOT_BOOKED',
            searchCriteria: criteria,
            specialty: criteria.specialty ?? null,
            clinicType: criteria.clinicType ?? null,
            serviceId: target?.id ?? null,
            providerOds: target?.odsCode ?? null,
            appointmentId: null,
          },
          action: target ? 'CHANGE_SHORTLIST_AND_SEND_FOR_TRIAGE' : 'CHANGE_SHORTLIST',
          event: target ? ERS_EVENTS.referralSentForTriage : ERS_EVENTS.referralShortlistChanged,
          shortlist: serviceIds,
        };
      },
    );
  }
}

/** A013 accept, A014 reject (APPOINTMENT-CANCELLATION-REASON of usage REJECT), A028 record the triage outcome. */
@Injectable()
export class ProviderDecisionUseCase {
  constructor(
    private readonly actors: Actors,
    private readonly changes: ReferralChanges,
    private readonly referrals: ReferralRepository,
    private readonly directory: DirectoryRepository,
  ) {}

  async accept(request: ChangeRequest, context: CallContext): Promise<FhirReply> {
    const actor = await this.actors.resolve(context, request, PROVIDER_FUNCTIONS);
    const version = expectedVersion(request.ifMatch);
    return this.changes.run(
      { context, actor, operation: 'referral.accept', request, ubrn: request.id, version, mayAct: isProviderOf },
      (_transaction, referral) => {
        requireState('accept', referral.state);
        return Promise.resolve({
          referral: { ...referral, state: 'ACCEPTED' as const },
          action: 'ACCEPT',
          event: ERS_EVENTS.referralAccepted,
        });
      },
    );
  }

  async reject(request: ChangeRequest, context: CallContext): Promise<FhirReply> {
    const actor = await this.actors.resolve(context, request, PROVIDER_FUNCTIONS);
    const version = expectedVersion(request.ifMatch);
    const { reason, comment } = reasonOf(
      request,
      { reason: 'rejectionReason', comment: 'rejectionComments' },
      APPOINTMENT_CANCELLATION_REASONS,
      ['PROVIDER_REJECT'],
    );
    return this.changes.run(
      { context, actor, operation: 'referral.reject', request, ubrn: request.id, version, mayAct: isProviderOf },
      async (transaction, referral, nextVersion) => {
        requireState('reject', referral.state);
        await endAppointment(this.referrals, this.directory, transaction, referral, nextVersion, reason.code);
        return {
          referral: { ...referral, state: 'REJECTED' },
          action: 'REJECT',
          event: ERS_EVENTS.referralRejected,
          reason: reason.code,
          ...(comment ? { comment } : {}),
        };
      },
    );
  }

  async reviewOutcome(request: ChangeRequest, context: CallContext): Promise<FhirReply> {
    const actor = await this.actors.resolve(context, request, PROVIDER_FUNCTIONS);
    const version = expectedVersion(request.ifMatch);
    const parameters = parametersOf(request.resource, 'parameter');
    refuseUnknown(parameters, ['reviewOutcome', 'reviewComments'], 'parameter');
    const outcome = codeOf(parameter(parameters, 'reviewOutcome'));
    if (!outcome) throw invalid('parameter reviewOutcome is required', 'MISSING_VALUE');
    if (!['RETURN_TO_REFERRER_WITH_ADVICE', 'ACCEPT_REFER_BOOK_LATER'].includes(outcome)) {
      throw invalid(`Unknown review outcome '${outcome.slice(0, 40)}'`, 'INVALID_CODE');
    }
    const comment = parameter(parameters, 'reviewComments')?.valueString;
    if (typeof comment !== 'string' || comment.trim() === '')
      throw invalid('reviewComments are required', 'MISSING_VALUE');
    return this.changes.run(
      {
        context,
        actor,
        operation: 'referral.review-outcome',
        request,
        ubrn: request.id,
        version,
        mayAct: isProviderOf,
      },
      async (transaction, referral, nextVersion) => {
        requireState('recordReviewOutcome', referral.state);
        const returned = outcome === 'RETURN_TO_REFERRER_WITH_ADVICE';
        if (returned) await endAppointment(this.referrals, this.directory, transaction, referral, nextVersion, outcome);
        return {
          referral: { ...referral, state: returned ? 'TRIAGE_RESPONSE' : 'ACCEPTED' },
          action: outcome,
          event: ERS_EVENTS.reviewOutcomeRecorded,
          reason: outcome,
          comment: comment.slice(0, 2000),
        };
      },
    );
  }
}

/** A022's parameters, checked before anything is read or locked. */
function actionLaterParameters(request: ChangeRequest): {
  comments: string;
  priority?: string;
  cancelledInPas?: boolean;
} {
  const parameters = parametersOf(request.resource, 'parameter');
  refuseUnknown(
    parameters,
    ['priority', 'appointmentCancelledInPAS', 'comments', 'providerAttachmentFile'],
    'parameter',
  );
  for (const name of ['priority', 'appointmentCancelledInPAS', 'comments']) {
    if (parameters.filter((item) => item.name === name).length > 1) {
      throw invalid(`parameter ${name} may be given once`, 'INAPPROPRIATE_VALUE');
    }
  }
  if (parameters.some((item) => item.name === 'providerAttachmentFile')) {
    // Attachments are associated with A012 on this platform; A022 takes none yet, and says so rather than drop them.
    throw new PlatformError('FIELD_NOT_PERMITTED', undefined, {
      diagnostics: 'providerAttachmentFile is not supported here: attach files to the referral with A012',
    });
  }
  const comments = parameter(parameters, 'comments')?.valueString;
  if (typeof comments !== 'string' || comments.trim() === '') {
    throw invalid('parameter comments is required', 'MISSING_VALUE');
  }
  const priorityParameter = parameter(parameters, 'priority');
  let priority: string | undefined;
  if (priorityParameter) {
    const code = codeOf(priorityParameter);
    if (!code) throw invalid('parameter priority needs a valueCoding code', 'MISSING_VALUE');
    if (!concept(PRIORITIES, code)) throw invalid(`Unknown priority '${code.slice(0, 40)}'`, 'INVALID_CODE');
    const system = priorityParameter.valueCoding?.system;
    if (system !== undefined && system !== SYSTEMS.priority) {
      throw invalid(`priority must be coded in ${SYSTEMS.priority}`, 'INVALID_CODE');
    }
    priority = code;
  }
  const pas = parameter(parameters, 'appointmentCancelledInPAS');
  if (pas && typeof pas['valueBoolean'] !== 'boolean') {
    throw invalid('appointmentCancelledInPAS takes valueBoolean', 'INVALID_VALUE');
  }
  return {
    comments: comments.slice(0, 2000),
    ...(priority ? { priority } : {}),
    ...(pas ? { cancelledInPas: pas['valueBoolean'] as boolean } : {}),
  };
}

/**
 * A022 (cancel appointment, action later): the provider reviewing a referral booked into its bookable service
 * cancels the appointment (its slot free again) and tasks its admin team to rebook or redirect the referral,
 * with comments and optionally a new priority. The referral becomes TRIAGED_PROVIDER_TO_ACTION with the reason
 * CANCEL_APPOINTMENT_ACTION_LATER. For an indirectly bookable service the provider says whether the
 * appointment was cancelled in its PAS (VALUE_IS_REQUIRED otherwise); for a directly bookable one it may not.
 */
@Injectable()
export class CancelAppointmentActionLaterUseCase {
  constructor(
    private readonly actors: Actors,
    private readonly changes: ReferralChanges,
    private readonly referrals: ReferralRepository,
    private readonly directory: DirectoryRepository,
  ) {}

  async execute(request: ChangeRequest, context: CallContext): Promise<FhirReply> {
    const actor = await this.actors.resolve(context, request, PROVIDER_FUNCTIONS);
    const version = expectedVersion(request.ifMatch);
    const { comments, priority, cancelledInPas } = actionLaterParameters(request);
    return this.changes.run(
      {
        context,
        actor,
        operation: 'referral.cancel-appointment-action-later',
        request,
        ubrn: request.id,
        version,
        mayAct: isProviderOf,
      },
      async (transaction, referral, nextVersion) => {
        requireState('cancelAppointmentActionLater', referral.state);
        const [service] = referral.serviceId ? await this.directory.services([referral.serviceId], transaction) : [];
        if (!service || service.triage) {
          throw invalid('A022 is for referrals booked into a bookable service', 'INVALID_REQUEST_STATE');
        }
        if (service.bookableType === 'INDIRECTLY_BOOKABLE' && cancelledInPas === undefined) {
          throw new PlatformError('VALUE_IS_REQUIRED', undefined, {
            diagnostics: 'appointmentCancelledInPAS is required for an indirectly bookable service',
          });
        }
        if (service.bookableType !== 'INDIRECTLY_BOOKABLE' && cancelledInPas !== undefined) {
          throw new PlatformError('FIELD_NOT_PERMITTED', undefined, {
            diagnostics: 'appointmentCancelledInPAS is only for an indirectly bookable service',
          });
        }
        const reason = 'CANCEL_APPOINTMENT_ACTION_LATER';
        const reasonCoding = {
          system: SYSTEMS.reviewOutcome,
          code: reason,
          display: 'Cancel Appointment Action Later',
        };
        await endAppointment(this.referrals, this.directory, transaction, referral, nextVersion, reason);
        // As the NHS example answers: a new proposed appointment at the same service, with the reason and the
        // comments, stands for the rebooking the provider's team will do (the cancelled one stays readable, A038).
        const proposedId = await this.referrals.insertAppointment(transaction, {
          ubrn: referral.ubrn,
          serviceId: service.id,
          slotId: null,
          status: 'proposed',
        });
        await this.referrals.saveAppointmentVersion(transaction, {
          id: proposedId,
          ubrn: referral.ubrn,
          version: 1,
          serviceId: service.id,
          slotId: null,
          status: 'proposed',
          resource: appointmentResource({
            id: proposedId,
            version: 1,
            status: 'proposed',
            service,
            patientNhsNumber: referral.patientNhsNumber,
            ubrn: referral.ubrn,
            referralVersion: nextVersion,
            reasonCoding,
            comment: comments,
            created: new Date().toISOString(),
          }),
        });
        const newPriority = priority ?? referral.priority;
        return {
          referral: {
            ...referral,
            state: 'TRIAGED_PROVIDER_TO_ACTION',
            priority: newPriority,
            searchCriteria: { ...referral.searchCriteria, priority: newPriority },
            appointmentId: proposedId,
          },
          action: reason,
          event: ERS_EVENTS.appointmentCancelled,
          reason,
          comment: comments,
          eventDetails: { ...(referral.appointmentId ? { appointmentId: referral.appointmentId } : {}) },
          stateDetail: { reason: reasonCoding, comments },
        };
      },
    );
  }
}
