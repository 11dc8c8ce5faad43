import { IsObject, IsString, Matches, MaxLength } from 'class-validator';
import type { PrescriptionStatus } from './subjects';

/** A FHIR resource as JSON: EPS checks its content, the contract only that it is an object. */
export type FhirResource = Record<string, unknown> & { resourceType?: string };

export class PrepareRequest {
  /** A prescription-order message Bundle, unsigned. */
  @IsObject()
  bundle!: FhirResource;
}

export class CreatePrescriptionRequest {
  /** A prescription-order message Bundle with the prescriber's signature in its Provenance. */
  @IsObject()
  bundle!: FhirResource;
}

export class ReleaseRequest {
  /** The Task/$release Parameters: owner (the pharmacy), status, agent, and group-identifier for one prescription. */
  @IsObject()
  parameters!: FhirResource;
}

export class ReturnRequest {
  /** The FHIR Task with status rejected, its statusReason (0001-0008) and the prescription's groupIdentifier. */
  @IsObject()
  task!: FhirResource;
}

/** A withdrawal Task or a Claim: a FHIR resource the pharmacy sends about a prescription it holds. */
export class PharmacyRequest {
  @IsObject()
  resource!: FhirResource;
}

export class GetPrescriptionRequest {
  @IsString()
  @MaxLength(32)
  shortFormId!: string;
}

export class RegisterPrescriberKeyRequest {
  @Matches(/^\d{6,20}$/, { message: 'sdsUserId must be the digits of an SDS user ID' })
  sdsUserId!: string;

  @Matches(/^-----BEGIN PUBLIC KEY-----[A-Za-z0-9+/=\s]+-----END PUBLIC KEY-----\s*$/, {
    message: 'publicKeyPem must be a PEM public key (SPKI)',
  })
  publicKeyPem!: string;
}

export interface CreatePrescriptionReply {
  shortFormId: string;
  status: PrescriptionStatus;
  /** The OperationOutcome the NHS answers a successful $process-message with. */
  outcome: FhirResource;
}

export interface PrescriptionEvent {
  kind: string;
  fromStatus: string | null;
  toStatus: string | null;
  pharmacy: string | null;
  detail: string | null;
  actor: string;
  actorOrganisation: string | null;
  at: string;
}

/** A prescription's tracking view: where it is and how it got there. */
export interface PrescriptionTracking {
  shortFormId: string;
  longFormId: string;
  status: PrescriptionStatus;
  patientNhsNumber: string;
  prescriberOds: string;
  nominatedPharmacy: string | null;
  dispenser: string | null;
  /** Repeat dispensing: the issue now in progress, of how many (1 of 1 otherwise). */
  issue: { current: number; total: number };
  history: PrescriptionEvent[];
}

/** eps.prescription.created.v1 / released.v1 / release-failed.v1. */
export interface PrescriptionEventMessage {
  shortFormId: string;
  status: PrescriptionStatus;
  pharmacy: string | null;
  occurredAt: string;
}

/** The reply to eps.prescriber-key.register.v1: the prescriber and the fingerprint of their new current key. */
export interface RegisterPrescriberKeyReply {
  sdsUserId: string;
  /** Lower-case hex SHA-256 of the key's DER SubjectPublicKeyInfo. */
  fingerprint: string;
}

/** eps.prescriber-key.registered.v1: a prescriber's key was registered (a first key, or a rotation). */
export interface PrescriberKeyRegisteredMessage {
  sdsUserId: string;
  fingerprint: string;
  /** The key that was current before; it stays valid for the prescriptions it verified. Null for a first key. */
  previousFingerprint: string | null;
  /** Who registered it (username, or the caller ID) and the X-Request-ID of the registration. */
  registeredBy: string;
  requestId: string;
  occurredAt: string;
}
