import type { Patient } from '@platform/contracts-pds';

/**
 * What PDS searches on, derived from a Patient resource: indexed columns of the patient row and one row per
 * name and per address. Every write of a patient (seeding, the population generator, updates) derives them
 * here, so the search tables always say what the stored resource says.
 */
export interface SearchRows {
  patient: PatientSearchColumns;
  names: NameRow[];
  addresses: AddressRow[];
}

export interface PatientSearchColumns {
  gender: string | null;
  /** YYYY-MM-DD */
  birthDate: string | null;
  /** YYYY-MM-DD, the date part of deceasedDateTime. */
  deathDate: string | null;
  /** ODS code of the registered GP practice, upper case. */
  gpOds: string | null;
  /** Current e-mail addresses, lower case. */
  emails: string[];
  /** Current phone numbers, digits only (+44 written as 0). */
  phones: string[];
  /** Previous (`use: old`) e-mail addresses, lower case: searched with `_history`. */
  previousEmails: string[];
  /** Previous (`use: old`) phone numbers, normalised as `phones`: searched with `_history`. */
  previousPhones: string[];
}

export interface NameRow {
  family: string;
  given: string[];
  /** normaliseName(family): what exact and wildcard searches compare. */
  familyNorm: string;
  /** The words of the given names, normalised, in order (`['John Paul', 'James']` -> `['john', 'paul', 'james']`). */
  givenNorm: string[];
  /** Birth date copied from the patient, so that (name, birth date) is one index. */
  birthDate: string | null;
  /** Not `use: old`: searched without `_history`. */
  current: boolean;
}

export interface AddressRow {
  /** normalisePostcode(postalCode). */
  postcodeNorm: string;
  current: boolean;
}

const SPECIAL_LETTERS: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
};
const PLAIN = /^[a-z ]*$/;

/**
 * A name as searches compare it: lower case, accents and apostrophes removed, every other run of
 * non-letters one space (`O'Reilly` -> `oreilly`, `Smith-Jones` -> `smith jones`, `Kociński` -> `kocinski`).
 * With `keepWildcards`, `*` survives (query values).
 */
export function normaliseName(value: string, keepWildcards = false): string {
  let text = value.toLowerCase();
  if (!PLAIN.test(text)) {
    text = text
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[ßæœøłđðþı]/g, (letter) => SPECIAL_LETTERS[letter] ?? letter)
      .replace(/['’‘`]/g, '')
      .replace(keepWildcards ? /[^a-z*]+/g : /[^a-z]+/g, ' ');
  }
  return text.trim().replace(/ {2,}/g, ' ');
}

/**
 * Given names as searches compare them: word by word, so that a compound given name ("John Paul") and the
 * same names given separately ("John", "Paul") match each other, in the record and in the query alike.
 */
export function givenWords(given: string[], keepWildcards = false): string[] {
  return given.flatMap((item) => normaliseName(item, keepWildcards).split(' ')).filter((word) => word.length > 0);
}

/** A postcode as searches compare it: upper case, letters and digits only (`ls1 6ae` -> `LS16AE`). */
export function normalisePostcode(value: string, keepWildcards = false): string {
  return value.toUpperCase().replace(keepWildcards ? /[^A-Z0-9*]/g : /[^A-Z0-9]/g, '');
}

/** A phone number as searches compare it: digits only, a leading +44 (or +44 (0)) written as 0. */
export function normalisePhone(value: string): string {
  const digits = value.replace(/[^0-9+]/g, '');
  if (digits.startsWith('+44')) return `0${digits.slice(3).replace(/\+/g, '').replace(/^0/, '')}`;
  return digits.replace(/\+/g, '');
}

export function normaliseEmail(value: string): string {
  return value.trim().toLowerCase();
}

interface Coded {
  use?: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function list(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

/** `use: old` marks a previous name, address or contact; anything else is current. */
function isCurrent(item: Coded): boolean {
  return item.use !== 'old';
}

const DATE = /^\d{4}-\d{2}-\d{2}/;

function datePart(value: unknown): string | null {
  return typeof value === 'string' && DATE.test(value) ? value.slice(0, 10) : null;
}

/** The ODS code of the patient's registered GP practice (upper case), or null. */
export function gpOdsOf(resource: Patient): string | null {
  for (const practitioner of list(resource['generalPractitioner'])) {
    const identifier = practitioner['identifier'];
    if (isRecord(identifier)) {
      const value = text(identifier['value']);
      if (value) return value.toUpperCase();
    }
  }
  return null;
}

/** The search rows of a Patient resource (pure; the resource is not changed). */
export function searchRowsOf(resource: Patient): SearchRows {
  const birthDate = datePart(resource['birthDate']);
  const names: NameRow[] = [];
  for (const name of list(resource['name'])) {
    const family = text(name['family']);
    const given = strings(name['given']);
    const familyNorm = family ? normaliseName(family) : '';
    const givenNorm = givenWords(given);
    if (familyNorm.length === 0 && givenNorm.length === 0) continue;
    names.push({ family: family ?? '', given, familyNorm, givenNorm, birthDate, current: isCurrent(name) });
  }
  const addresses: AddressRow[] = [];
  for (const address of list(resource['address'])) {
    const postalCode = text(address['postalCode']);
    if (!postalCode) continue;
    const postcodeNorm = normalisePostcode(postalCode);
    if (postcodeNorm.length > 0) addresses.push({ postcodeNorm, current: isCurrent(address) });
  }
  const emails = new Set<string>();
  const phones = new Set<string>();
  const previousEmails = new Set<string>();
  const previousPhones = new Set<string>();
  for (const telecom of list(resource['telecom'])) {
    const value = text(telecom['value']);
    if (!value) continue;
    const current = isCurrent(telecom);
    if (telecom['system'] === 'email') (current ? emails : previousEmails).add(normaliseEmail(value));
    else if (telecom['system'] === 'phone') {
      const phone = normalisePhone(value);
      if (phone.length > 0) (current ? phones : previousPhones).add(phone);
    }
  }
  return {
    patient: {
      gender: text(resource['gender']),
      birthDate,
      deathDate: datePart(resource['deceasedDateTime']),
      gpOds: gpOdsOf(resource),
      emails: [...emails],
      phones: [...phones],
      previousEmails: [...previousEmails].filter((email) => !emails.has(email)),
      previousPhones: [...previousPhones].filter((phone) => !phones.has(phone)),
    },
    names,
    addresses,
  };
}
