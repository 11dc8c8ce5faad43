import { IsString, MaxLength } from 'class-validator';

/** A FHIR R4 Patient as PDS returns it (UK Core profile); fields beyond these pass through untouched. */
export interface Patient {
  resourceType: 'Patient';
  id: string;
  meta: { versionId: string; security?: { system: string; code: string; display?: string }[] };
  identifier?: { system: string; value: string }[];
  [field: string]: unknown;
}

export class GetPatientRequest {
  /** The NHS number as the caller sent it; the service validates it (INVALID_RESOURCE_ID). */
  @IsString()
  @MaxLength(64)
  nhsNumber!: string;
}

/**
 * `GetPatientRequest` as its decorators check it, without class-validator (which costs more than the rest of
 * a read's checks): the request itself when it is an object with only a string `nhsNumber` of at most 64
 * characters, otherwise undefined (and the caller runs the full validation for its exact problems).
 */
export function plainGetPatientRequest(value: unknown): GetPatientRequest | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  const nhsNumber = (value as { nhsNumber?: unknown }).nhsNumber;
  if (keys.length !== 1 || keys[0] !== 'nhsNumber' || typeof nhsNumber !== 'string' || nhsNumber.length > 64) {
    return undefined;
  }
  return { nhsNumber };
}

/**
 * What pds.patient.get.v1 answers: the Patient's FHIR JSON as the message's data, raw (no envelope, so that
 * neither pds nor the gateway escapes or parses it), its version in this reply header. Failures come in the
 * usual envelope (`{id, err}`); see `serveDirect` in the shared NATS library.
 */
export const PATIENT_VERSION_HEADER = 'X-Version-Id';

/**
 * The same reply in Nest's envelope (`{response: {patientJson, versionId}}`), as pds answered before it
 * answered raw; the client still reads it.
 */
export interface GetPatientWireReply {
  patientJson: string;
  versionId: number;
}

/** The Patient as FHIR JSON text, for callers that pass it on (the gateway). */
export interface PatientDocument {
  json: string;
  versionId: number;
}

/** The Patient as an object, for callers that read it. */
export interface GetPatientReply {
  patient: Patient;
  /** meta.versionId as a number, for the ETag. */
  versionId: number;
}

/** A FHIR R4 RelatedPerson as PDS returns it; fields beyond these pass through untouched. */
export interface RelatedPerson {
  resourceType: 'RelatedPerson';
  id: string;
  patient?: { identifier?: { system?: string; value?: string } };
  [field: string]: unknown;
}

export class ListRelatedPersonsRequest {
  /** The NHS number as the caller sent it; the service validates it (INVALID_RESOURCE_ID). */
  @IsString()
  @MaxLength(64)
  nhsNumber!: string;
}

export interface ListRelatedPersonsReply {
  /** The NHS number whose related people these are (the surviving one when the number asked for was superseded). */
  nhsNumber: string;
  /** In PDS's order; empty for a restricted patient. */
  relatedPersons: RelatedPerson[];
}

export interface HealthReply {
  status: 'ok';
  service: 'pds';
}
