import type { Coverage } from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import { isValidNhsNumber } from '@platform/shared-identifiers';

const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
const COUNTRY_SYSTEM = 'urn:iso:std:iso:3166';
/** The specification's pattern for the card number, the personal ID (25) and the institution ID (30). */
const IDENTIFIER_CHARACTERS = /^[a-zA-Z0-9\-,/:'. ]+$/;
const COUNTRY = /^[A-Z]{3}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const FIELDS = new Set(['resourceType', 'status', 'subscriber', 'identifier', 'payor', 'beneficiary', 'period']);

type Json = Record<string, unknown>;

/** A value as a diagnostic may quote it: JSON, short. */
function quoted(value: unknown): string {
  return (JSON.stringify(value) ?? 'undefined').slice(0, 40);
}

type CoverageError =
  | 'MISSING_VALUE'
  | 'INVALID_VALUE'
  | 'TOO_FEW_VALUES_SUBMITTED'
  | 'TOO_MANY_VALUES_SUBMITTED';

function fail(code: CoverageError, diagnostics: string): never {
  throw new PlatformError(code, undefined, { diagnostics });
}

function objectAt(value: unknown, field: string): Json {
  if (value === undefined || value === null) fail('MISSING_VALUE', `Missing value - '${field}'`);
  if (typeof value !== 'object' || Array.isArray(value)) fail('INVALID_VALUE', `Invalid value in field '${field}'`);
  return value as Json;
}

function text(value: unknown, field: string, most: number, pattern: RegExp): string {
  if (value === undefined || value === null || value === '') fail('MISSING_VALUE', `Missing value - '${field}'`);
  if (typeof value !== 'string' || value.length > most || !pattern.test(value)) {
    fail('INVALID_VALUE', `Invalid value - ${quoted(value)} in field '${field}'`);
  }
  return value;
}

/** A list of exactly one item (the card, the institution). */
function single(value: unknown, field: string): Json {
  if (value === undefined || value === null) fail('MISSING_VALUE', `Missing value - '${field}'`);
  if (!Array.isArray(value)) fail('INVALID_VALUE', `Invalid value in field '${field}': expected a list`);
  if (value.length < 1) fail('TOO_FEW_VALUES_SUBMITTED', `Too few values submitted in field '${field}': one needed`);
  if (value.length > 1) fail('TOO_MANY_VALUES_SUBMITTED', `Too many values submitted in field '${field}': one allowed`);
  return objectAt(value[0], `${field}[0]`);
}

function expiry(value: unknown, today: Date): string {
  const end = text(value, 'period.end', 10, DATE);
  const [, year, month, day] = DATE.exec(end) ?? [];
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  const calendar = date.getUTCFullYear() === Number(year) && date.getUTCDate() === Number(day);
  const years = (date.getTime() - today.getTime()) / (365.25 * 24 * 3600 * 1000);
  if (!calendar || Math.abs(years) >= 150) {
    fail('INVALID_VALUE', `Invalid value - '${end}' in field 'period.end': a date less than 150 years away`);
  }
  return end;
}

/**
 * The NHS number a Coverage is for (`subscriber.identifier.value`): checked first, as the resource's id.
 * MISSING_VALUE when absent, INVALID_RESOURCE_ID when its check digit fails.
 */
export function subscriberOf(body: Json): string {
  const subscriber = objectAt(body['subscriber'], 'subscriber');
  const identifier = objectAt(subscriber['identifier'], 'subscriber.identifier');
  const value = identifier['value'];
  if (value === undefined || value === null || value === '') {
    fail('MISSING_VALUE', "Missing value - 'subscriber.identifier.value'");
  }
  if (typeof value !== 'string' || !isValidNhsNumber(value)) {
    throw new PlatformError('INVALID_RESOURCE_ID', 'Resource Id is invalid', {
      diagnostics: 'The NHS number is not 10 digits with a valid check digit',
    });
  }
  if (identifier['system'] !== undefined && identifier['system'] !== NHS_NUMBER_SYSTEM) {
    fail('INVALID_VALUE', `Invalid value in field 'subscriber.identifier.system': expected ${NHS_NUMBER_SYSTEM}`);
  }
  return value;
}

/**
 * A POST /Coverage body checked against the specification (components/schemas/Coverage.yaml): every field
 * required (all the card's details), `status` active, one card (`identifier`) with its number and issuing
 * country, one institution (`payor`), the personal ID (`beneficiary`), the expiry date (`period.end`, less
 * than 150 years away); no other fields. Answers the card as stored, in the specification's shape.
 */
export function checkCoverage(body: Json, today: Date = new Date()): Coverage {
  const nhsNumber = subscriberOf(body);
  const unknown = Object.keys(body).find((field) => !FIELDS.has(field));
  if (unknown !== undefined) {
    fail('INVALID_VALUE', `Invalid value - '${unknown.slice(0, 40)}' is not a field of Coverage`);
  }
  if (body['resourceType'] !== undefined && body['resourceType'] !== 'Coverage') {
    fail('INVALID_VALUE', "Invalid value in field 'resourceType': expected Coverage");
  }
  if (body['status'] === undefined) fail('MISSING_VALUE', "Missing value - 'status'");
  if (body['status'] !== 'active') {
    fail('INVALID_VALUE', `Invalid value - ${quoted(body['status'])} in field 'status'`);
  }
  const card = single(body['identifier'], 'identifier');
  const cardNumber = text(card['value'], 'identifier[0].value', 25, IDENTIFIER_CHARACTERS);
  const assigner = objectAt(card['assigner'], 'identifier[0].assigner');
  const country = objectAt(assigner['identifier'], 'identifier[0].assigner.identifier');
  if (country['system'] !== COUNTRY_SYSTEM) {
    if (country['system'] === undefined) fail('MISSING_VALUE', "Missing value - 'identifier[0].assigner.identifier.system'");
    fail('INVALID_VALUE', `Invalid value in field 'identifier[0].assigner.identifier.system': expected ${COUNTRY_SYSTEM}`);
  }
  const countryCode = text(country['value'], 'identifier[0].assigner.identifier.value', 3, COUNTRY);
  const display = assigner['display'];
  if (display !== undefined && (typeof display !== 'string' || display.length > 100)) {
    fail('INVALID_VALUE', "Invalid value in field 'identifier[0].assigner.display'");
  }
  const payor = single(body['payor'], 'payor');
  const institution = text(
    objectAt(payor['identifier'], 'payor[0].identifier')['value'],
    'payor[0].identifier.value',
    30,
    IDENTIFIER_CHARACTERS,
  );
  const beneficiary = objectAt(body['beneficiary'], 'beneficiary');
  const personalId = text(
    objectAt(beneficiary['identifier'], 'beneficiary.identifier')['value'],
    'beneficiary.identifier.value',
    25,
    IDENTIFIER_CHARACTERS,
  );
  const end = expiry(objectAt(body['period'], 'period')['end'], today);
  return {
    resourceType: 'Coverage',
    status: 'active',
    subscriber: { identifier: { system: NHS_NUMBER_SYSTEM, value: nhsNumber } },
    identifier: [
      {
        value: cardNumber,
        assigner: {
          identifier: { system: COUNTRY_SYSTEM, value: countryCode },
          ...(typeof display === 'string' ? { display } : {}),
        },
      },
    ],
    payor: [{ identifier: { value: institution } }],
    beneficiary: { identifier: { value: personalId } },
    period: { end },
  };
}

/**
 * A stored card as a reply may show it: the specification returns nothing of a card whose personal ID or
 * institution ID is missing.
 */
export function shownCoverage(stored: Coverage | undefined): Coverage | undefined {
  if (!stored?.beneficiary?.identifier?.value || !stored.payor?.[0]?.identifier?.value) return undefined;
  return stored;
}
