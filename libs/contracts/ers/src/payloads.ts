import { IsIn, IsObject, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { BUSINESS_FUNCTION_CODES, type BusinessFunction } from './business-functions';

/** A FHIR resource as JSON: e-referrals checks its content, the contract only that it is an object. */
export type FhirResource = Record<string, unknown> & { resourceType?: string };

/** The longest NHSD-eRS-On-Behalf-Of-User-ID value a request may carry (an SDS user id is 12 digits). */
export const ON_BEHALF_OF_MAX_LENGTH = 64;

/** Every e-RS request names the business function the caller acts in (the NHSD-eRS-Business-Function header). */
class BusinessRequest {
  @IsOptional()
  @IsIn(BUSINESS_FUNCTION_CODES, { message: 'businessFunction must be an e-RS business function code' })
  businessFunction?: BusinessFunction;

  /**
   * The NHSD-eRS-On-Behalf-Of-User-ID header as sent: the SDS user id of the provider clinician a
   * SERVICE_PROVIDER_CLINICIAN_ADMIN acts for. e-referrals checks it (required with that function, refused
   * with any other, one of the clinicians A040 lists).
   */
  @IsOptional()
  @IsString()
  @MaxLength(ON_BEHALF_OF_MAX_LENGTH)
  onBehalfOf?: string;
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

/**
 * What the `ers.referral.*.v1` and `ers.advice.*.v1` events carry (never patient details: the UBRN leads to them).
 * An advice event's `ubrn` is the Advice and Guidance request's; in `ers.advice.created.v1` the referrer is both
 * `referrerOdsCode` and `actorOdsCode`.
 */
export interface ReferralEvent {
  ubrn: string;
  versionId: number;
  state: string;
  /** The service the event concerns (booked into, deferred to, rejected by). */
  serviceId?: string;
  appointmentId?: string;
  referrerOdsCode: string;
  providerOdsCode?: string;
  /** `ers.advice.*.v1`: the organisation that acted (the referrer, or the provider responding or converting). */
  actorOdsCode?: string;
  /** `ers.advice.converted.v1`: the referral the request became (the request's own UBRN, as in e-RS). */
  referralUbrn?: string;
  reason?: string;
  occurredAt: string;
}

/**
 * A FHIR answer as the bytes e-referrals wrote (a raw reply, `serveDirect`), passed on unparsed: its JSON, its
 * version (the ETag) and, for creates, where it lives. What A008, A010, A015 and A016 answer.
 */
export interface FhirDocument {
  body: Uint8Array;
  versionId?: string;
  location?: string;
  /**
   * `gzip`: the body is the JSON gzipped (the A008 worklist, some 6 MB of JSON for 5,000 referrals and a few
   * hundred KB gzipped), for the gateway to send as it is to a client that accepts gzip and to gunzip otherwise.
   */
  encoding?: 'gzip';
}

/** The reply headers of a raw FHIR answer: its version, its location and its body's encoding. */
export const ERS_VERSION_HEADER = 'X-Version-Id';
export const ERS_LOCATION_HEADER = 'X-Location';
export const ERS_ENCODING_HEADER = 'X-Content-Encoding';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isFunction = (value: unknown): boolean =>
  value === undefined || (typeof value === 'string' && (BUSINESS_FUNCTION_CODES as readonly string[]).includes(value));

// MaxLength counts a surrogate pair as one character: this many UTF-16 units or fewer is always within it.
const isOnBehalfOf = (value: unknown): value is string | undefined =>
  value === undefined || (typeof value === 'string' && value.length <= ON_BEHALF_OF_MAX_LENGTH);

/**
 * A ResourceRequest the common way, checked by hand: what class-validator would accept with no change, or
 * undefined (the caller then validates with the class, for its exact problems). The hot subjects' checks without
 * class-transformer and class-validator.
 */
export function plainResourceRequest(value: unknown): ResourceRequest | undefined {
  if (!isRecord(value)) return undefined;
  for (const key of Object.keys(value)) {
    if (key !== 'resource' && key !== 'businessFunction' && key !== 'ifMatch' && key !== 'onBehalfOf') return undefined;
  }
  const { resource, businessFunction, ifMatch, onBehalfOf } = value;
  if (!isRecord(resource) || !isFunction(businessFunction) || !isOnBehalfOf(onBehalfOf)) return undefined;
  // MaxLength counts a surrogate pair as one character: 64 UTF-16 units or fewer is always within it.
  if (ifMatch !== undefined && !(typeof ifMatch === 'string' && ifMatch.length <= 64)) return undefined;
  return {
    resource,
    ...(businessFunction === undefined ? {} : { businessFunction: businessFunction as BusinessFunction }),
    ...(ifMatch === undefined ? {} : { ifMatch }),
    ...(onBehalfOf === undefined ? {} : { onBehalfOf }),
  };
}

/** A QueryRequest the common way, checked by hand (see `plainResourceRequest`), or undefined. */
export function plainQueryRequest(value: unknown): QueryRequest | undefined {
  if (!isRecord(value)) return undefined;
  for (const key of Object.keys(value)) {
    if (key !== 'query' && key !== 'businessFunction' && key !== 'onBehalfOf') return undefined;
  }
  const { query, businessFunction, onBehalfOf } = value;
  if (!isRecord(query) || !isFunction(businessFunction) || !isOnBehalfOf(onBehalfOf)) return undefined;
  return {
    query: query as Record<string, string | string[]>,
    ...(businessFunction === undefined ? {} : { businessFunction: businessFunction as BusinessFunction }),
    ...(onBehalfOf === undefined ? {} : { onBehalfOf }),
  };
}
