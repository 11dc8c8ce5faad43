import { createHash, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type {
  PatientAppointment,
  PatientBookRequest,
  PatientCancelRequest,
  PatientConfirmReply,
  PatientConfirmRequest,
  PatientFormRequest,
  PatientSessionRequest,
  PatientSignInReply,
  PatientSignInRequest,
  PatientSlots,
  PatientSlotsRequest,
  PatientView,
} from '@platform/contracts-ers';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { DirectoryRepository } from '../directory/directory.repository';
import { BookAppointmentUseCase } from '../referrals/book-appointment.usecase';
import { CancelAppointmentUseCase } from '../referrals/referral-lifecycle.usecase';
import { ReferralRepository, type Referral } from '../referrals/referral.repository';
import { SYSTEMS } from '../shared/fhir';
import { allows, STATE_DISPLAY } from '../shared/states';
import { PatientAccessRepository, type PatientSession } from './patient-access.repository';

const SLOT_PAGE = 10;
const UBRN = /^[0-9]{12}$/;

function sameSecret(a: string, b: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

function sessionEnded(): PlatformError {
  return new PlatformError('ACCESS_DENIED', undefined, { diagnostics: 'No session, or the session has ended' });
}

/** The access code as a patient may type it: spaces and dashes ignored, letters in either case (codes are lower case). */
function normalisedCode(code: string): string {
  return code.replace(/[\s-]/g, '').toLowerCase();
}

/**
 * Patients booking themselves with the codes on their letter. Sign-in counts an attempt against the UBRN
 * before anything is compared (PatientAccessRepository.takeAttempt), so guesses are limited whatever their
 * concurrency and on every replica; the answer never says which detail was wrong. Booking and cancelling go
 * through the referrer's own use cases (A016, A034): the same state machine, slot uniqueness, If-Match,
 * idempotency per form submission and events. The patient acts on the referral as its referring
 * organisation would on their behalf: the in-process context below names the patient as the actor, is built
 * only after the session was checked, and never leaves this process.
 */
@Injectable()
export class PatientBookingUseCase {
  constructor(
    private readonly access: PatientAccessRepository,
    private readonly referrals: ReferralRepository,
    private readonly directory: DirectoryRepository,
    private readonly bookAppointment: BookAppointmentUseCase,
    private readonly cancelAppointment: CancelAppointmentUseCase,
  ) {}

  async signIn(request: PatientSignInRequest): Promise<PatientSignInReply> {
    const ubrn = request.ubrn.replace(/\s/g, '');
    if (!UBRN.test(ubrn)) return { outcome: 'refused', reason: 'WRONG_DETAILS' };
    const attempt = await this.access.takeAttempt(ubrn);
    if (!attempt.allowed) return { outcome: 'refused', reason: 'LOCKED', retryAfterSeconds: attempt.retryAfterSeconds };
    const codes = await this.access.referralCodes(ubrn);
    // The comparison runs (against a dummy) even for an unknown UBRN, so the answer takes the same time.
    const matches = sameSecret(normalisedCode(request.accessCode), codes?.accessCode ?? '\u0000unknown');
    if (!codes || !matches) return { outcome: 'refused', reason: 'WRONG_DETAILS' };
    return { outcome: 'continue', pendingId: await this.access.createPending(ubrn), nhsNumber: codes.nhsNumber };
  }

  async confirm(request: PatientConfirmRequest): Promise<PatientConfirmReply> {
    const ubrn = await this.access.takePending(request.pendingId);
    if (!ubrn) return { outcome: 'refused', reason: 'WRONG_DETAILS' };
    const typed = Number(request.birthYear.trim());
    const { patient } = request;
    // The attempt was counted at sign-in: a wrong year leaves it counted.
    if (patient.deceased || patient.birthYear === undefined || typed !== patient.birthYear) {
      return { outcome: 'refused', reason: 'WRONG_DETAILS' };
    }
    await this.access.resetAttempts(ubrn);
    const session = await this.access.createSession(ubrn, patient.restricted);
    return { outcome: 'signed-in', session: session.token, expiresAt: session.expiresAt };
  }

  private async session(token: string): Promise<PatientSession> {
    const session = token ? await this.access.session(token) : undefined;
    if (!session) throw sessionEnded();
    return session;
  }

  /** A form post: the session, and its CSRF token as sent with the form. */
  private async formSession(request: PatientFormRequest): Promise<PatientSession> {
    const session = await this.session(request.session);
    if (!sameSecret(request.csrf, session.csrf)) {
      throw new PlatformError('ACCESS_DENIED', undefined, { diagnostics: 'The form is not from this session' });
    }
    return session;
  }

  private async referral(ubrn: string): Promise<Referral> {
    const referral = await this.referrals.find(ubrn);
    if (!referral) throw sessionEnded();
    return referral;
  }

  async view(request: PatientSessionRequest, context: CallContext): Promise<PatientView> {
    const session = await this.session(request.session);
    const referral = await this.referral(session.ubrn);
    await this.access.auditRead(session.ubrn, 'patient.view', context.requestId, context.correlationId);
    // A restricted patient's distances would tell where they live: none are shown.
    const shortlist = await this.access.shortlist(session.ubrn, !session.restricted);
    const appointment = await this.currentAppointment(referral);
    return {
      ubrn: referral.ubrn,
      version: referral.version,
      state: referral.state,
      stateDisplay: STATE_DISPLAY[referral.state],
      restricted: session.restricted,
      csrf: session.csrf,
      shortlist,
      ...(appointment ? { appointment } : {}),
      canBook: allows('book', referral.state) && shortlist.some((service) => service.bookable),
      canCancel: appointment !== undefined && allows('cancelAppointment', referral.state),
    };
  }

  async slots(request: PatientSlotsRequest, context: CallContext): Promise<PatientSlots> {
    const session = await this.session(request.session);
    const referral = await this.referral(session.ubrn);
    const shortlist = await this.access.shortlist(session.ubrn, !session.restricted);
    const service = shortlist.find((candidate) => candidate.id === request.serviceId);
    if (!service?.bookable) {
      throw new PlatformError('INAPPROPRIATE_VALUE', undefined, {
        diagnostics: 'That service is not one you can book on your shortlist',
        status: 422,
      });
    }
    await this.access.auditRead(session.ubrn, 'patient.slots', context.requestId, context.correlationId);
    const found = await this.directory.freeSlots(service.id, {
      offset: (request.page - 1) * SLOT_PAGE,
      limit: SLOT_PAGE,
      from: new Date(),
    });
    return {
      service,
      page: request.page,
      pageSize: SLOT_PAGE,
      total: found.total,
      slots: found.slots.map((slot) => ({ id: slot.id, start: slot.start, end: slot.end })),
      csrf: session.csrf,
      version: referral.version,
    };
  }

  /** The referrer's business context for the referral, acting for the patient (see the class comment). */
  private actingFor(referral: Referral, context: CallContext): CallContext {
    return {
      requestId: context.requestId,
      ...(context.correlationId ? { correlationId: context.correlationId } : {}),
      caller: { id: 'patient', username: 'patient', roles: ['clinician'], organisation: referral.referrerOds },
    };
  }

  async book(request: PatientBookRequest, context: CallContext): Promise<PatientAppointment> {
    const session = await this.formSession(request);
    const referral = await this.referral(session.ubrn);
    const reply = await this.bookAppointment.execute(
      {
        businessFunction: 'REFERRING_CLINICIAN',
        ifMatch: `W/"${request.version}"`,
        resource: {
          resourceType: 'Appointment',
          status: 'booked',
          slot: [{ reference: `Slot/${request.slotId}` }],
          incomingReferral: [{ reference: `ReferralRequest/${referral.ubrn}/_history/${request.version}` }],
          participant: [
            { actor: { identifier: { system: SYSTEMS.ersService, value: request.serviceId } }, status: 'accepted' },
            {
              actor: { identifier: { system: SYSTEMS.nhsNumber, value: referral.patientNhsNumber } },
              status: 'accepted',
            },
          ],
        },
      },
      this.actingFor(referral, context),
    );
    const times = await this.access.slotTimes(request.slotId);
    const service = await this.directory.service(request.serviceId);
    return {
      id: typeof reply.resource['id'] === 'string' ? reply.resource['id'] : '',
      version: Number(reply.versionId ?? 1),
      serviceId: request.serviceId,
      serviceName: service?.name ?? '',
      start: times?.start ?? '',
      end: times?.end ?? '',
    };
  }

  async cancel(request: PatientCancelRequest, context: CallContext): Promise<{ cancelled: true }> {
    const session = await this.formSession(request);
    const referral = await this.referral(session.ubrn);
    // Only the appointment of this session's referral; the core checks it is still the current one.
    const appointment = await this.referrals.appointment(request.appointmentId);
    if (!appointment || appointment.ubrn !== referral.ubrn) {
      throw new PlatformError('INVALID_REQUEST_STATE', undefined, {
        diagnostics: 'That is not an appointment of your referral',
        status: 422,
      });
    }
    await this.cancelAppointment.execute(
      {
        id: appointment.id,
        businessFunction: 'REFERRING_CLINICIAN',
        ifMatch: `W/"${request.appointmentVersion}"`,
        resource: {
          resourceType: 'Appointment',
          status: 'cancelled',
          extension: [
            {
              url: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-AppointmentCancellationReason-1',
              valueCoding: { code: request.reason },
            },
          ],
        },
      },
      this.actingFor(referral, context),
    );
    return { cancelled: true };
  }

  async signOut(request: PatientFormRequest): Promise<{ signedOut: true }> {
    await this.formSession(request);
    await this.access.endSession(request.session);
    return { signedOut: true };
  }

  private async currentAppointment(referral: Referral): Promise<PatientAppointment | undefined> {
    if (!referral.appointmentId) return undefined;
    const appointment = await this.referrals.appointment(referral.appointmentId);
    if (!appointment || appointment.status !== 'booked' || !appointment.slotId) return undefined;
    const [times, service] = await Promise.all([
      this.access.slotTimes(appointment.slotId),
      this.directory.service(appointment.serviceId),
    ]);
    return {
      id: appointment.id,
      version: appointment.version,
      serviceId: appointment.serviceId,
      serviceName: service?.name ?? '',
      start: times?.start ?? '',
      end: times?.end ?? '',
    };
  }
}
