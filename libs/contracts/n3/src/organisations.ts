import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';
import { PageRequest } from './page';

/** ODS codes: 3 to 6 upper-case letters or digits (BRIEF section 3); existence is checked by lookup. */
export const ODS_CODE_PATTERN = /^[A-Z0-9]{3,6}$/;
/** A UK postcode: outward code, a space, inward code (the form ODS extracts use). */
export const POSTCODE_PATTERN = /^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** A GP Connect endpoint: an http(s) address without spaces, as the registry's column allows. */
export const GP_CONNECT_ENDPOINT_PATTERN = /^https?:\/\/\S{1,500}$/;

/**
 * The roles an organisation plays, with the ODS role code for each where ODS has one. The prescription
 * service asks for `pharmacy`; the FHIR organisation-role code is the number in the ODS code (RO182 -> 182).
 */
export const ORGANISATION_ROLES = {
  'gp-practice': { odsRoleCode: 'RO76', display: 'GP practice' },
  pharmacy: { odsRoleCode: 'RO182', display: 'Pharmacy' },
  'nhs-trust': { odsRoleCode: 'RO197', display: 'NHS trust' },
  'trust-site': { odsRoleCode: 'RO198', display: 'NHS trust site' },
  commissioner: { odsRoleCode: 'RO98', display: 'Commissioning body (CCG / ICB)' },
  other: { odsRoleCode: null, display: 'Other NHS or supplier organisation' },
} as const;
export type OrganisationRole = keyof typeof ORGANISATION_ROLES;
export const ORGANISATION_ROLE_NAMES = Object.keys(ORGANISATION_ROLES) as OrganisationRole[];

/** ODS record status: A active, C closed, D dormant, P proposed. */
export const ORGANISATION_STATUSES = ['active', 'closed', 'dormant', 'proposed'] as const;
export type OrganisationStatus = (typeof ORGANISATION_STATUSES)[number];

export interface Organisation {
  odsCode: string;
  name: string;
  role: OrganisationRole;
  odsRoleCode: string | null;
  status: OrganisationStatus;
  /** YYYY-MM-DD. */
  openDate: string | null;
  closeDate: string | null;
  addressLines: string[];
  postcode: string | null;
  /** The commissioner or parent trust (ODS "parent organisation code"). */
  parentOdsCode: string | null;
  telephone: string | null;
  /**
   * The base address of the organisation's GP Connect provider (its clinical system), as SDS holds it per ODS
   * code: GP2GP fetches a patient's record from the previous practice's. Null where there is none.
   */
  gpConnectEndpoint: string | null;
  updatedAt: string;
}

export class GetOrganisationRequest {
  @IsString()
  @MaxLength(32)
  odsCode!: string;
}

/** Creates or replaces an organisation's record (registry-admin). */
export class UpsertOrganisationRequest {
  @Matches(ODS_CODE_PATTERN, { message: 'odsCode must be 3 to 6 upper-case letters or digits' })
  odsCode!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;

  @IsIn(ORGANISATION_ROLE_NAMES)
  role!: OrganisationRole;

  @IsIn(ORGANISATION_STATUSES)
  status: OrganisationStatus = 'active';

  @IsOptional()
  @Matches(DATE, { message: 'openDate must be a date, YYYY-MM-DD' })
  openDate?: string | null;

  @IsOptional()
  @Matches(DATE, { message: 'closeDate must be a date, YYYY-MM-DD' })
  closeDate?: string | null;

  @IsArray()
  @ArrayMaxSize(5)
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  addressLines: string[] = [];

  @IsOptional()
  @Matches(POSTCODE_PATTERN, { message: 'postcode must be a UK postcode such as LS15 8BA' })
  postcode?: string | null;

  @IsOptional()
  @Matches(ODS_CODE_PATTERN, { message: 'parentOdsCode must be 3 to 6 upper-case letters or digits' })
  parentOdsCode?: string | null;

  @IsOptional()
  @Matches(/^[0-9 +()-]{6,20}$/, { message: 'telephone must be 6 to 20 digits, spaces or +()-' })
  telephone?: string | null;

  /** The GP Connect provider's base address (http or https, no spaces, at most 500 characters). */
  @IsOptional()
  @Matches(GP_CONNECT_ENDPOINT_PATTERN, { message: 'gpConnectEndpoint must be an http(s) address' })
  gpConnectEndpoint?: string | null;
}

export class SearchOrganisationsRequest extends PageRequest {
  /** Words of the name, in any order, each found anywhere in it (case-insensitive); best match first. */
  @IsOptional()
  @IsString()
  @MinLength(2)
  @MaxLength(100)
  name?: string;

  /** A postcode prefix: an outward code (LS15) or more (LS15 8). */
  @IsOptional()
  @Matches(/^[A-Za-z]{1,2}[0-9A-Za-z ]{0,6}$/, { message: 'postcode must be the start of a UK postcode, e.g. LS15' })
  postcode?: string;

  @IsOptional()
  @IsIn(ORGANISATION_ROLE_NAMES)
  role?: OrganisationRole;

  @IsOptional()
  @IsIn(ORGANISATION_STATUSES)
  status?: OrganisationStatus;
}

/** Imports an ODS extract already stored in the import bucket (the gateway or the CLI put it there). */
export class ImportOrganisationsRequest {
  @IsString()
  @Matches(/^[\w.-]{1,200}$/, { message: 'objectName must name an object in the import bucket' })
  objectName!: string;

  @IsIn(ORGANISATION_ROLE_NAMES)
  role!: OrganisationRole;

  /** Import the good rows and report the bad ones; otherwise one bad row rejects the whole file. */
  @IsBoolean()
  skipInvalid = false;
}

export interface RejectedRow {
  /** 1-based line in the file. */
  line: number;
  odsCode?: string;
  reason: string;
}

export interface ImportReport {
  rows: number;
  inserted: number;
  updated: number;
  rejected: RejectedRow[];
  /** True when bad rows were left out and the rest imported (skipInvalid). */
  partial: boolean;
  ms: number;
}
