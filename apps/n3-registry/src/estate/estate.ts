import { csvLine, ODS_COLUMNS } from '../imports/ods-csv';
import { between, chance, seededRandom, Weighted, type RandomSource } from '@platform/shared-identifiers';
import type { AccessType, ConnectionStatus, OrganisationRole } from '@platform/contracts-n3';

/**
 * A synthetic N3 estate: organisations with generated ODS codes (Z and five digits, a range ODS does not
 * issue, so they never clash with real codes), one or more connections each, and the IPv4 (and some IPv6)
 * blocks live connections hold. Deterministic for a given seed.
 */

/** Towns and their postcode areas, for addresses that look like England's. */
const TOWNS: readonly (readonly [string, string, number])[] = [
  ['LEEDS', 'LS', 8],
  ['BRADFORD', 'BD', 5],
  ['SHEFFIELD', 'S', 6],
  ['MANCHESTER', 'M', 9],
  ['LIVERPOOL', 'L', 6],
  ['BIRMINGHAM', 'B', 10],
  ['NOTTINGHAM', 'NG', 5],
  ['LEICESTER', 'LE', 4],
  ['BRISTOL', 'BS', 5],
  ['NEWCASTLE UPON TYNE', 'NE', 5],
  ['LONDON', 'E', 12],
  ['LONDON', 'SE', 10],
  ['LONDON', 'N', 8],
  ['DURHAM', 'DH', 2],
  ['DERBY', 'DE', 3],
  ['TAUNTON', 'TA', 2],
  ['SHREWSBURY', 'SY', 2],
  ['NORWICH', 'NR', 3],
  ['PLYMOUTH', 'PL', 3],
  ['SOUTHAMPTON', 'SO', 4],
];
const STREETS = [
  'HIGH STREET',
  'STATION ROAD',
  'CHURCH LANE',
  'MILL ROAD',
  'PARK AVENUE',
  'THE GREEN',
  'MARKET PLACE',
  'VICTORIA ROAD',
];
const ROLES = new Weighted<OrganisationRole>([
  ['gp-practice', 35],
  ['pharmacy', 45],
  ['trust-site', 15],
  ['other', 5],
]);
const NAME_ENDING: Record<OrganisationRole, readonly string[]> = {
  'gp-practice': ['SURGERY', 'MEDICAL CENTRE', 'HEALTH CENTRE', 'MEDICAL PRACTICE'],
  pharmacy: ['PHARMACY', 'CHEMIST', 'PHARMACY LTD'],
  'trust-site': ['HOSPITAL', 'COMMUNITY HOSPITAL', 'CLINIC'],
  'nhs-trust': ['NHS TRUST'],
  commissioner: ['ICB'],
  other: ['SUPPORT SERVICES', 'DATA CENTRE'],
};
const SUPPLIERS = new Weighted<string>([
  ['BT', 40],
  ['Virgin Media Business', 15],
  ['Daisy', 10],
  ['Vodafone', 10],
  ['Capita', 8],
  ['Redcentric', 7],
  ['Updata', 5],
  ['Exponential-e', 5],
]);
const ACCESS = new Weighted<[AccessType, number]>([
  [['fttc', 80], 35],
  [['fttp', 300], 25],
  [['adsl', 8], 5],
  [['ethernet', 1000], 20],
  [['leased-line', 10_000], 5],
  [['cellular', 50], 7],
  [['satellite', 20], 3],
]);
const STATUSES = new Weighted<ConnectionStatus>([
  ['live', 85],
  ['ordered', 4],
  ['provisioning', 5],
  ['migrating', 3],
  ['ceased', 3],
]);

export interface EstateOrganisation {
  odsCode: string;
  name: string;
  role: OrganisationRole;
  addressLines: string[];
  postcode: string;
  openDate: string;
}

export interface EstateConnection {
  odsCode: string;
  supplier: string;
  bandwidthMbps: number;
  accessType: AccessType;
  availabilityTarget: number;
  contractStart: string;
  status: ConnectionStatus;
  /** Blocks held now (none when ceased). */
  blocks: string[];
}

export const GENERATED_ODS_PREFIX = 'Z';
const MAX_ORGANISATIONS = 99_999;
/** Each connection's IPv4 block: a /27 carved in order from 10.0.0.0/8 (524,288 of them). */
const BLOCK_SIZE = 32;

function date(random: RandomSource, fromYear: number, toYear: number): string {
  const year = between(random, fromYear, toYear);
  const month = between(random, 1, 12);
  const day = between(random, 1, 28);
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export function generatedOdsCode(index: number): string {
  return `${GENERATED_ODS_PREFIX}${String(index + 1).padStart(5, '0')}`;
}

/** The index-th organisation of the estate for `seed` (the same every time). */
export function estateOrganisation(index: number, seed: number): EstateOrganisation {
  if (index >= MAX_ORGANISATIONS)
    throw new Error(`the generated estate has at most ${MAX_ORGANISATIONS} organisations`);
  const random = seededRandom(seed * 1_000_003 + index);
  const [town, area, districts] = TOWNS[between(random, 0, TOWNS.length - 1)];
  const role = ROLES.pick(random);
  const street = STREETS[between(random, 0, STREETS.length - 1)];
  const endings = NAME_ENDING[role];
  const letters = 'ABDEFGHJLNPQRSTUWXYZ';
  const postcode = `${area}${between(random, 1, districts)} ${between(random, 1, 9)}${letters[between(random, 0, 19)]}${letters[between(random, 0, 19)]}`;
  return {
    odsCode: generatedOdsCode(index),
    name: `${street.split(' ')[0]} ${town.split(' ')[0]} ${endings[between(random, 0, endings.length - 1)]}`,
    role,
    addressLines: [`${between(random, 1, 250)} ${street}`, town],
    postcode,
    openDate: date(random, 1948, 2024),
  };
}

/** The IPv4 /27 of the n-th block, from 10.0.0.0 upwards. */
export function ipv4Block(n: number): string {
  const base = n * BLOCK_SIZE;
  return `10.${(base >>> 16) & 255}.${(base >>> 8) & 255}.${base & 255}/27`;
}

/** The connections of the estate: `connections` of them over `organisations` organisations. */
export function* estateConnections(
  connections: number,
  organisations: number,
  seed: number,
): Generator<EstateConnection> {
  if (connections > 524_288)
    throw new Error('the generated estate has at most 524,288 connections (one /27 each in 10.0.0.0/8)');
  const random = seededRandom(seed);
  for (let index = 0; index < connections; index += 1) {
    const [accessType, bandwidthMbps] = ACCESS.pick(random);
    const status = STATUSES.pick(random);
    const blocks = status === 'ceased' ? [] : [ipv4Block(index)];
    if (status !== 'ceased' && chance(random, 0.1)) {
      blocks.push(`2001:db8:${(index >>> 8).toString(16)}:${((index & 255) << 8).toString(16)}::/56`);
    }
    yield {
      odsCode: generatedOdsCode(index % organisations),
      supplier: SUPPLIERS.pick(random),
      bandwidthMbps,
      accessType,
      availabilityTarget: accessType === 'leased-line' ? 99.99 : accessType === 'ethernet' ? 99.95 : 99.5,
      contractStart: date(random, 2015, 2026),
      status,
      blocks,
    };
  }
}

/** An organisation as a line of an ODS standard extract (27 quoted columns, YYYYMMDD dates, status A). */
export function odsExtractLine(organisation: EstateOrganisation): string {
  const fields = Array.from({ length: ODS_COLUMNS }, () => '');
  fields[0] = organisation.odsCode;
  fields[1] = organisation.name;
  fields[2] = 'Y63';
  fields[3] = 'QHM';
  organisation.addressLines.forEach((line, index) => (fields[4 + index] = line));
  fields[9] = organisation.postcode;
  fields[10] = organisation.openDate.replaceAll('-', '');
  fields[12] = 'A';
  return csvLine(fields);
}
