import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext, NatsRpcClient } from '@platform/shared-nats';
import { ERS_SUBJECTS } from './subjects';

/**
 * Patients booking themselves (the patient page, `/referrals/patient` at the gateway). There is no platform
 * login: the patient proves who they are with the UBRN and access code from their letter and their year of
 * birth, and then holds a short-lived opaque session. These subjects are called only by the gateway, which
 * signs them as the `patient-web` caller (role `patient`); e-referrals decides everything from the session.
 */
export const PATIENT_WEB_CALLER = { id: 'patient-web', username: 'patient-web', roles: ['patient'] } as const;

/** The cancellation reasons a patient may give (APPOINTMENT-CANCELLATION-REASON, reason type PATIENT). */
export const PATIENT_CANCELLATION_REASONS = {
  PATIENT_HOLIDAY: 'I will be on holiday',
  PATIENT_ILL: 'I am unwell',
} as const;
export type PatientCancellationReason = keyof typeof PATIENT_CANCELLATION_REASONS;

/** Step 1: the codes from the letter. Counted against the UBRN's attempts before they are checked. */
export class PatientSignInRequest {
  @IsString()
  @MaxLength(40)
  ubrn!: string;

  @IsString()
  @MaxLength(40)
  accessCode!: string;
}

/** Refused: the details do not match (never which one), or the UBRN is locked after repeated failures. */
export interface PatientRefusal {
  outcome: 'refused';
  reason: 'WRONG_DETAILS' | 'LOCKED';
  retryAfterSeconds?: number;
}

export type PatientSignInReply = { outcome: 'continue'; pendingId: string; nhsNumber: string } | PatientRefusal;

/** What the gateway read in PDS, as the patient, for the pending sign-in's NHS number. */
export class PatientRecordFacts {
  @IsOptional()
  @IsInt()
  birthYear?: number;

  @IsBoolean()
  deceased!: boolean;

  /** meta.security other than U: the patient's address must never be shown. */
  @IsBoolean()
  restricted!: boolean;
}

/** Step 2: the year of birth the patient typed, checked against PDS; a session on success. */
export class PatientConfirmRequest {
  @Matches(/^[0-9a-f-]{36}$/)
  pendingId!: string;

  @IsString()
  @MaxLength(8)
  birthYear!: string;

  @ValidateNested()
  @Type(() => PatientRecordFacts)
  patient!: PatientRecordFacts;
}

export type PatientConfirmReply = { outcome: 'signed-in'; session: string; expiresAt: string } | PatientRefusal;

/** A request made in a session (reads). */
export class PatientSessionRequest {
  @IsString()
  @MaxLength(100)
  session!: string;
}

/** A form post made in a session: the session's CSRF token must come with it. */
export class PatientFormRequest extends PatientSessionRequest {
  @IsString()
  @MaxLength(100)
  csrf!: string;
}

export class PatientSlotsRequest extends PatientSessionRequest {
  @Matches(/^[0-9]{1,12}$/)
  serviceId!: string;

  @IsInt()
  @Min(1)
  @Max(1000)
  page!: number;
}

export class PatientBookRequest extends PatientFormRequest {
  /** The referral's version the page showed (If-Match): a resubmitted form is the same request, a stale one 409. */
  @IsInt()
  @Min(1)
  version!: number;

  @Matches(/^[0-9]{1,12}$/)
  serviceId!: string;

  @Matches(/^[0-9]{1,15}$/)
  slotId!: string;
}

export class PatientCancelRequest extends PatientFormRequest {
  @Matches(/^[0-9]{1,15}$/)
  appointmentId!: string;

  /** The appointment's version the page showed (If-Match). */
  @IsInt()
  @Min(1)
  appointmentVersion!: number;

  @IsIn(Object.keys(PATIENT_CANCELLATION_REASONS))
  reason!: PatientCancellationReason;
}

export interface PatientService {
  id: string;
  name: string;
  /** Kilometres from the postcode the referral searched from; absent for restricted patients or no postcode. */
  distanceKm?: number;
  waitDays: number;
  /** Directly bookable (slots); otherwise the provider contacts the patient. */
  bookable: boolean;
}

export interface PatientAppointment {
  id: string;
  version: number;
  serviceId: string;
  serviceName: string;
  start: string;
  end: string;
}

/** What the patient sees of their referral: never their address, nor any other patient detail. */
export interface PatientView {
  ubrn: string;
  /** The referral's version: forms carry it back as If-Match. */
  version: number;
  state: string;
  stateDisplay: string;
  restricted: boolean;
  csrf: string;
  shortlist: PatientService[];
  appointment?: PatientAppointment;
  canBook: boolean;
  canCancel: boolean;
}

export interface PatientSlots {
  service: PatientService;
  page: number;
  pageSize: number;
  total: number;
  slots: { id: string; start: string; end: string }[];
  csrf: string;
  version: number;
}

function object<T>(reply: unknown, what: string): T {
  if (typeof reply !== 'object' || reply === null) {
    throw new PlatformError('REC_SERVER_ERROR', `e-referrals answered with something that is not ${what}`);
  }
  return reply as T;
}

/** The gateway's client of the patient subjects. */
export class PatientBookingClient {
  constructor(private readonly rpc: NatsRpcClient) {}

  async signIn(request: PatientSignInRequest, context: CallContext): Promise<PatientSignInReply> {
    const reply = await this.rpc.requestValidated(ERS_SUBJECTS.patientSignIn, PatientSignInRequest, request, context);
    return object(reply, 'a sign-in answer');
  }
  async confirm(request: PatientConfirmRequest, context: CallContext): Promise<PatientConfirmReply> {
    const reply = await this.rpc.requestValidated(ERS_SUBJECTS.patientConfirm, PatientConfirmRequest, request, context);
    return object(reply, 'a sign-in answer');
  }
  async view(request: PatientSessionRequest, context: CallContext): Promise<PatientView> {
    const reply = await this.rpc.requestValidated(ERS_SUBJECTS.patientView, PatientSessionRequest, request, context);
    return object(reply, 'a referral view');
  }
  async slots(request: PatientSlotsRequest, context: CallContext): Promise<PatientSlots> {
    const reply = await this.rpc.requestValidated(ERS_SUBJECTS.patientSlots, PatientSlotsRequest, request, context);
    return object(reply, 'a page of slots');
  }
  async book(request: PatientBookRequest, context: CallContext): Promise<PatientAppointment> {
    const reply = await this.rpc.requestValidated(ERS_SUBJECTS.patientBook, PatientBookRequest, request, context);
    return object(reply, 'an appointment');
  }
  async cancel(request: PatientCancelRequest, context: CallContext): Promise<{ cancelled: true }> {
    const reply = await this.rpc.requestValidated(ERS_SUBJECTS.patientCancel, PatientCancelRequest, request, context);
    return object(reply, 'a cancellation');
  }
  async signOut(request: PatientFormRequest, context: CallContext): Promise<{ signedOut: true }> {
    const reply = await this.rpc.requestValidated(ERS_SUBJECTS.patientSignOut, PatientFormRequest, request, context);
    return object(reply, 'a sign-out');
  }
}
