import { IsBoolean, IsObject, IsOptional } from 'class-validator';

export class CreatePatientRequest {
  /** The new patient as a FHIR Patient without `id` or `meta`; the service checks what a record needs. */
  @IsObject()
  patient!: Record<string, unknown>;

  /** NHS sandbox mode: matched and allocated as usual, but nothing is kept (see UpdatePatientRequest.sandbox). */
  @IsOptional()
  @IsBoolean()
  sandbox?: boolean;
}

/** A new record: its allocated NHS number and the stored Patient as FHIR JSON text. */
export interface CreatePatientReply {
  nhsNumber: string;
  patientJson: string;
  versionId: number;
}
