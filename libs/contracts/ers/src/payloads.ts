import { IsIn, IsObject, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { BUSINESS_FUNCTION_CODES, type BusinessFunction } from './business-functions';

/** A FHIR resource as JSON: e-referrals checks its content, the contract only that it is an object. */
export type FhirResource = Record<string, unknown> & { resourceType?: string };

/** Every e-RS request names the business function the caller acts in (the NHSD-eRS-Business-Function header). */
class BusinessRequest {
  @IsOptional()
  @IsIn(BUSINESS_FUNCTION_CODES, { message: 'businessFunction must be an e-RS business function code' })
  businessFunction?: BusinessFunction;
}

/** A body-carrying operation (A010, A011, A016, directory publishing): the FHIR resource sent. */
export class ResourceRequest extends BusinessRequest {
  @IsObject()
  resource!: FhirResource;

  /** A016 may carry If-Match (the referral's version); otherwise its incomingReferral reference's version counts. */
  @IsOptional()
  @IsString()
  @MaxLength(64)
  ifMatch?: string;
}

/** A read by id (UBRN, appointment id, service id), optionally of one version (`_history/{version}`). */
export class ReadRequest extends BusinessRequest {
  @IsString()
  @MaxLength(64)
  id!: string;

  @IsOptional()
  @Matches(/^\d{1,9}$/, { message: 'version must be a version number' })
  version?: string;
}

/** A change to one referral or appointment: If-Match and the FHIR Parameters (or Appointment) sent. */
export class ChangeRequest extends BusinessRequest {
  @IsString()
  @MaxLength(64)
  id!: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  ifMatch?: string;

  @IsOptional()
  @IsObject()
  resource?: FhirResource;
}

/** A search: the query parameters as sent (each parameter's values joined the way the HTTP query had them). */
export class QueryRequest extends BusinessRequest {
  @IsObject()
  query!: Record<string, string | string[]>;
}

/** What most e-RS operations answer: a FHIR resource, its version (the ETag) and, for creates, where it lives. */
export interface FhirReply {
  resource: FhirResource;
  versionId?: string;
  /** Relative to the API's base, e.g. `STU3/ReferralRequest/000000070000`. */
  location?: string;
}

/** What every `ers.referral.*.v1` event carries (never patient details: the UBRN leads to them). */
export interface ReferralEvent {
  ubrn: string;
  versionId: number;
  state: string;
  /** The service the event concerns (booked into, deferred to, rejected by). */
  serviceId?: string;
  appointmentId?: string;
  referrerOdsCode: string;
  providerOdsCode?: string;
  reason?: string;
  occurredAt: string;
}
