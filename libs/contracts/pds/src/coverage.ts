import { IsObject, IsOptional, IsBoolean, IsString, MaxLength } from 'class-validator';

/**
 * A patient's European Health Insurance Card (EHIC) as a FHIR R4 Coverage, as the NHS PDS specification
 * describes it (components/schemas/Coverage.yaml): one card per patient.
 */
export interface Coverage {
  resourceType: 'Coverage';
  status: 'active';
  subscriber: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number'; value: string } };
  /** The card: its number and the country that issued it (ISO 3166 alpha-3). */
  identifier: [
    {
      value: string;
      assigner: { identifier: { system: 'urn:iso:std:iso:3166'; value: string }; display?: string };
    },
  ];
  /** The institution that issued the card. */
  payor: [{ identifier: { value: string } }];
  /** The card holder's personal identification number. */
  beneficiary: { identifier: { value: string } };
  /** The card's expiry date. */
  period: { end: string };
}

export class GetCoverageRequest {
  /** The FHIR search query string as sent, without `?` (`subscriber:identifier=<NHS number>`). */
  @IsString()
  @MaxLength(1024)
  query!: string;

  /**
   * NHS sandbox mode: answered as the NHS sandbox does, open access (EHIC details are otherwise for patient
   * access only, a patient's own card); a pds not started with PDS_SEED=sandbox refuses it.
   */
  @IsOptional()
  @IsBoolean()
  sandbox?: boolean;
}

/** A patient's card, if they have one, and their record's version (the ETag a POST /Coverage must send). */
export interface CoverageReply {
  /** The NHS number the card belongs to (the surviving one when the number asked for was superseded). */
  nhsNumber: string;
  versionId: number;
  coverage?: Coverage;
}

export class UpdateCoverageRequest {
  /** The Coverage resource as sent; the service checks it against the specification's schema and rules. */
  @IsObject()
  coverage!: Record<string, unknown>;

  /** The If-Match header as sent (`W/"2"`, the patient's version); absent means it was not sent. */
  @IsOptional()
  @IsString()
  @MaxLength(64)
  ifMatch?: string;

  /** NHS sandbox mode: checked and applied as usual, and nothing kept (see UpdatePatientRequest.sandbox). */
  @IsOptional()
  @IsBoolean()
  sandbox?: boolean;
}
