import {
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { ODS_CODE_PATTERN, POSTCODE_PATTERN, type Organisation } from './organisations';
import { PageRequest } from './page';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const ID = /^[A-Z0-9-]{1,32}$/;

/** ordered -> provisioning -> live -> migrating -> ceased (BRIEF section 4.6). */
export const CONNECTION_STATUSES = ['ordered', 'provisioning', 'live', 'migrating', 'ceased'] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

export const ACCESS_TYPES = [
  'adsl',
  'sdsl',
  'fttc',
  'fttp',
  'ethernet',
  'leased-line',
  'wireless',
  'cellular',
  'satellite',
] as const;
export type AccessType = (typeof ACCESS_TYPES)[number];

export interface Site {
  id: string;
  odsCode: string;
  name: string;
  addressLines: string[];
  postcode: string | null;
}

export interface IpAllocation {
  id: string;
  connectionId: string;
  /** Canonical CIDR (network address / prefix length). */
  cidr: string;
  purpose: string | null;
  allocatedAt: string;
  releasedAt: string | null;
}

export interface Connection {
  id: string;
  odsCode: string;
  siteId: string | null;
  supplier: string;
  bandwidthMbps: number;
  accessType: AccessType;
  /** Percent, e.g. 99.95. */
  availabilityTarget: number;
  contractStart: string;
  contractEnd: string | null;
  status: ConnectionStatus;
  version: number;
  createdAt: string;
  updatedAt: string;
  /** Blocks held now (released ones are in the history). */
  allocations: IpAllocation[];
}

export interface ConnectionEvent {
  sequence: number;
  connectionId: string;
  /** `ordered`, a status change, `ip-assigned` or `ip-released`. */
  kind: string;
  fromStatus: ConnectionStatus | null;
  toStatus: ConnectionStatus | null;
  detail: string | null;
  actor: string;
  actorOrganisation: string | null;
  requestId: string;
  at: string;
}

export class CreateSiteRequest {
  @Matches(ODS_CODE_PATTERN, { message: 'odsCode must be 3 to 6 upper-case letters or digits' })
  odsCode!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;

  // Without IsArray, `each` checks a lone string as if it were one line, and the database then refuses it (a 500).
  @IsArray()
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  addressLines: string[] = [];

  @IsOptional()
  @Matches(POSTCODE_PATTERN, { message: 'postcode must be a UK postcode such as LS15 8BA' })
  postcode?: string | null;
}

/** An organisation's sites, a page at a time (`limit`, default 50, at most 200; `offset`). */
export class ListSitesRequest extends PageRequest {
  @IsString()
  @MaxLength(32)
  odsCode!: string;
}

export class CreateConnectionRequest {
  @Matches(ODS_CODE_PATTERN, { message: 'odsCode must be 3 to 6 upper-case letters or digits' })
  odsCode!: string;

  @IsOptional()
  @Matches(ID, { message: 'siteId must be a site identifier' })
  siteId?: string | null;

  @IsString()
  @MinLength(1)
  @MaxLength(100)
  supplier!: string;

  @IsInt()
  @Min(1)
  @Max(400_000)
  bandwidthMbps!: number;

  @IsIn(ACCESS_TYPES)
  accessType!: AccessType;

  @IsNumber({ maxDecimalPlaces: 3 })
  @Min(90)
  @Max(100)
  availabilityTarget!: number;

  @Matches(DATE, { message: 'contractStart must be a date, YYYY-MM-DD' })
  contractStart!: string;

  @IsOptional()
  @Matches(DATE, { message: 'contractEnd must be a date, YYYY-MM-DD' })
  contractEnd?: string | null;
}

export class GetConnectionRequest {
  @IsString()
  @MaxLength(64)
  connectionId!: string;
}

/** A connection's history, oldest first, a page at a time (`limit`, default 50, at most 200; `offset`). */
export class ConnectionHistoryRequest extends PageRequest {
  @IsString()
  @MaxLength(64)
  connectionId!: string;
}

export class ListConnectionsRequest extends PageRequest {
  @IsOptional()
  @IsString()
  @MaxLength(32)
  odsCode?: string;

  @IsOptional()
  @IsIn(CONNECTION_STATUSES)
  status?: ConnectionStatus;

  @IsOptional()
  @IsString()
  @MaxLength(100)
  supplier?: string;
}

export class TransitionConnectionRequest {
  @IsString()
  @MaxLength(64)
  connectionId!: string;

  @IsIn(CONNECTION_STATUSES)
  to!: ConnectionStatus;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;

  /** The version the caller saw (If-Match); a stale one is refused with RESOURCE_VERSION_MISMATCH. */
  @IsOptional()
  @IsInt()
  @Min(1)
  expectedVersion?: number;
}

export class AllocateBlockRequest {
  @IsString()
  @MaxLength(64)
  connectionId!: string;

  /** IPv4 (10.1.2.0/24) or IPv6 (2001:db8::/48) with no host bits set. */
  @IsString()
  @MaxLength(64)
  cidr!: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  purpose?: string;
}

export class ReleaseBlockRequest {
  @IsString()
  @MaxLength(64)
  connectionId!: string;

  @IsString()
  @MaxLength(64)
  allocationId!: string;
}

export class IpOwnerRequest {
  @IsString()
  @MaxLength(64)
  ip!: string;
}

/** Who holds an address: the most specific live block that contains it, its connection and organisation. */
export interface IpOwner {
  ip: string;
  allocation: { id: string; cidr: string; purpose: string | null };
  connection: Pick<Connection, 'id' | 'status' | 'supplier' | 'accessType' | 'bandwidthMbps' | 'siteId'>;
  organisation: Pick<Organisation, 'odsCode' | 'name' | 'role' | 'status'>;
}
