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
 * What pds.patient.get.v1 answers on the wire: the Patient as FHIR JSON text, so that the gateway can send
 * it on without parsing and serialising it again, and its version for the ETag.
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
