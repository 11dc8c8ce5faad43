import { MAX_SEARCH_RESULTS } from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import { isWellFormedOdsCode } from '@platform/shared-identifiers';
import { givenWords, normaliseEmail, normaliseName, normalisePhone, normalisePostcode } from '../patients/search-rows';

/** A name or postcode as the search compares it; `pattern` (LIKE, `%` for `*`) when it has wildcards. */
export interface TextTerm {
  value: string;
  pattern?: string;
}

/** Inclusive bounds, YYYY-MM-DD; at least one is set. */
export interface DateRange {
  from?: string;
  to?: string;
}

export interface SearchQuery {
  family?: TextTerm;
  given: TextTerm[];
  gender?: string;
  birthDate: DateRange;
  deathDate?: DateRange;
  postcode?: TextTerm;
  gp?: string;
  email?: string;
  phone?: string;
  fuzzy: boolean;
  exact: boolean;
  history: boolean;
  maxResults: number;
}

const DEFAULT_MAX_RESULTS = MAX_SEARCH_RESULTS;
const GENDERS = ['male', 'female', 'other', 'unknown'];
const BOOLEAN = /^(true|false)$/;
const DATE_VALUE = /^(eq|ge|le)?(\d{4})-(\d{2})-(\d{2})$/;
const NAME_CHARACTERS = /^[\p{L}\p{M}' ’.\-*]+$/u;
const POSTCODE_CHARACTERS = /^[A-Za-z0-9 *]+$/;
const EMAIL = /^[^\s@]+@[^\s@][^\s@.]*\.[^\s@]+$/;
const PHONE_CHARACTERS = /^\+?[0-9 ()-]+$/;

/** How often each parameter may appear, in the order values are checked. */
const PARAMETERS: Record<string, number> = {
  '_fuzzy-match': 1,
  '_exact-match': 1,
  _history: 1,
  '_max-results': 1,
  family: 1,
  given: 5,
  gender: 1,
  birthdate: 2,
  'death-date': 2,
  'address-postalcode': 1,
  'address-postcode': 1,
  'general-practitioner': 1,
  email: 1,
  phone: 1,
};

function invalidValue(diagnostics: string): PlatformError {
  return new PlatformError('INVALID_VALUE', undefined, { diagnostics });
}

function invalidSearch(diagnostics: string): PlatformError {
  return new PlatformError('INVALID_SEARCH_DATA', undefined, { diagnostics });
}

/** A parameter name as diagnostics may quote it: printable, short. */
function quoted(name: string): string {
  return `'${name.replace(/[^\x20-\x7e]/g, '?').slice(0, 40)}'`;
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

interface DateTerm {
  prefix: 'eq' | 'ge' | 'le';
  date: string;
}

function parseDate(name: string, raw: string): DateTerm {
  const match = DATE_VALUE.exec(raw);
  if (!match || !isCalendarDate(Number(match[2]), Number(match[3]), Number(match[4]))) {
    throw invalidValue(`Invalid value in field ${quoted(name)}: expected a date as [eq|ge|le]YYYY-MM-DD`);
  }
  const prefix = (match[1] ?? 'eq') as DateTerm['prefix'];
  return { prefix, date: `${match[2]}-${match[3]}-${match[4]}` };
}

/** One date, or a range of two (one `ge`, one `le`, in order). */
function dateRange(name: string, terms: DateTerm[]): DateRange {
  const [first, second] = terms;
  if (!first) throw new Error('dateRange of no terms');
  if (!second) {
    if (first.prefix === 'ge') return { from: first.date };
    if (first.prefix === 'le') return { to: first.date };
    return { from: first.date, to: first.date };
  }
  const ge = terms.find((term) => term.prefix === 'ge');
  const le = terms.find((term) => term.prefix === 'le');
  if (!ge || !le) throw invalidSearch(`A range in ${quoted(name)} needs one 'ge' and one 'le' value`);
  if (ge.date > le.date) throw invalidSearch(`The range in ${quoted(name)} ends before it starts`);
  return { from: ge.date, to: le.date };
}

function checkName(name: string, raw: string): void {
  if (raw.trim().length === 0 || raw.length > 100 || !NAME_CHARACTERS.test(raw) || !/\p{L}/u.test(raw)) {
    throw invalidValue(
      `Invalid value in field ${quoted(name)}: expected a name (letters, spaces, hyphens, apostrophes)`,
    );
  }
}

/** `*` matches any run of characters; never within the first two characters, never in a fuzzy search. */
function checkWildcard(name: string, value: string, fuzzy: boolean): void {
  if (!value.includes('*')) return;
  if (fuzzy) throw invalidSearch(`Wildcards cannot be used in a fuzzy search (${quoted(name)})`);
  const first = value.indexOf('*');
  if (first < 2 || value.slice(0, first).trim().length < 2) {
    throw invalidSearch(`A wildcard in ${quoted(name)} must follow at least two characters`);
  }
}

function term(value: string): TextTerm {
  return value.includes('*') ? { value, pattern: value.replace(/\*+/g, '%') } : { value };
}

function textTerm(name: string, value: string, fuzzy: boolean): TextTerm {
  checkWildcard(name, value, fuzzy);
  return term(value);
}

/** A given-name value's terms, word by word (as records keep them); the wildcard rules apply to the value sent. */
function givenTerms(given: string, fuzzy: boolean): TextTerm[] {
  checkWildcard('given', normaliseName(given, true), fuzzy);
  return givenWords([given], true).map(term);
}

function flag(values: Map<string, string[]>, name: string): boolean {
  return values.get(name)?.[0] === 'true';
}

/**
 * Parses and validates a FHIR search query string (without `?`), in the NHS's order of precedence: no
 * parameters (UNSUPPORTED_SERVICE); an unknown parameter (ADDITIONAL_PROPERTIES); a parameter repeated too
 * often, a malformed flag, limit, name, gender or date (INVALID_VALUE); no birth date (MISSING_VALUE, before
 * the postcode, GP, e-mail and phone are looked at, as the NHS sandbox answers `email=...&phone=0163`); a
 * malformed postcode, GP, e-mail or phone (INVALID_VALUE); a search that is not allowed, such as no family
 * name, a misplaced wildcard or a bad range (INVALID_SEARCH_DATA).
 */
export function parseSearchQuery(query: string): SearchQuery {
  const pairs = [...new URLSearchParams(query)];
  if (pairs.length === 0) throw new PlatformError('UNSUPPORTED_SERVICE');
  const unknown = pairs.find(([name]) => !Object.hasOwn(PARAMETERS, name));
  if (unknown) {
    throw new PlatformError('ADDITIONAL_PROPERTIES', undefined, {
      diagnostics: `Invalid search parameter ${quoted(unknown[0])}: not a parameter of this search`,
    });
  }
  const values = new Map<string, string[]>();
  for (const [name, value] of pairs) values.set(name, [...(values.get(name) ?? []), value]);

  for (const [name, most] of Object.entries(PARAMETERS)) {
    const given = values.get(name) ?? [];
    if (given.length > most) {
      throw invalidValue(`Too many values for ${quoted(name)}: at most ${most} allowed`);
    }
    if (given.some((value) => value.trim().length === 0)) throw invalidValue(`Empty value in field ${quoted(name)}`);
  }
  if (values.has('address-postalcode') && values.has('address-postcode')) {
    throw invalidValue(`Only one of 'address-postalcode' and 'address-postcode' may be given`);
  }
  for (const name of ['_fuzzy-match', '_exact-match', '_history']) {
    const value = values.get(name)?.[0];
    if (value !== undefined && !BOOLEAN.test(value)) {
      throw invalidValue(`Invalid value - ${quoted(value)} in field ${quoted(name)}: expected true or false`);
    }
  }
  let maxResults = DEFAULT_MAX_RESULTS;
  const max = values.get('_max-results')?.[0];
  if (max !== undefined) {
    maxResults = Number(max);
    if (!/^\d{1,3}$/.test(max) || maxResults < 1 || maxResults > MAX_SEARCH_RESULTS) {
      throw invalidValue(
        `Invalid value - ${quoted(max)} in field '_max-results': expected a whole number from 1 to ${MAX_SEARCH_RESULTS}`,
      );
    }
  }
  const family = values.get('family')?.[0];
  if (family !== undefined) checkName('family', family);
  const givens = values.get('given') ?? [];
  for (const given of givens) checkName('given', given);
  const gender = values.get('gender')?.[0];
  if (gender !== undefined && !GENDERS.includes(gender)) {
    throw invalidValue(`Invalid value - ${quoted(gender)} in field 'gender': expected one of ${GENDERS.join(', ')}`);
  }
  const birthDates = (values.get('birthdate') ?? []).map((value) => parseDate('birthdate', value));
  const deathDates = (values.get('death-date') ?? []).map((value) => parseDate('death-date', value));
  // The NHS sandbox's order: dates are checked, then that there is a birth date, then the other values.
  if (birthDates.length === 0) {
    throw new PlatformError('MISSING_VALUE', undefined, {
      diagnostics: "Missing value - 'birthdate': a search needs a date of birth (or a range) and a family name",
    });
  }
  const postcodeName = values.has('address-postcode') ? 'address-postcode' : 'address-postalcode';
  const postcode = values.get(postcodeName)?.[0];
  if (postcode !== undefined && (postcode.length > 12 || !POSTCODE_CHARACTERS.test(postcode))) {
    throw invalidValue(`Invalid value in field ${quoted(postcodeName)}: expected a postcode`);
  }
  const gp = values.get('general-practitioner')?.[0];
  if (gp !== undefined && !isWellFormedOdsCode(gp.toUpperCase())) {
    throw invalidValue(`Invalid value in field 'general-practitioner': expected an ODS code`);
  }
  const email = values.get('email')?.[0];
  if (email !== undefined && (email.length > 90 || !EMAIL.test(email))) {
    throw invalidValue(`Invalid value in field 'email': expected an e-mail address`);
  }
  const phone = values.get('phone')?.[0];
  const phoneDigits = phone?.replace(/[^0-9]/g, '').length ?? 0;
  if (
    phone !== undefined &&
    (phone.length > 30 || !PHONE_CHARACTERS.test(phone.replace(/\*/g, '')) || phoneDigits < 5)
  ) {
    throw invalidValue(`Invalid value in field 'phone': expected a telephone number`);
  }

  const fuzzy = flag(values, '_fuzzy-match');
  const exact = flag(values, '_exact-match');
  if (fuzzy && exact) throw invalidSearch(`'_fuzzy-match' and '_exact-match' cannot both be true`);
  if (family === undefined) {
    const fuzzyWithoutFamily = fuzzy && givens.length > 0 && gender !== undefined && postcode !== undefined;
    if (!fuzzyWithoutFamily) {
      throw invalidSearch(
        fuzzy
          ? "A fuzzy search needs 'family' (with 'given'), or 'given', 'gender' and a postcode, besides 'birthdate'"
          : "A search needs 'family' besides 'birthdate'",
      );
    }
  } else if (fuzzy && givens.length === 0 && (gender === undefined || postcode === undefined)) {
    throw invalidSearch("A fuzzy search needs 'given', or 'gender' and a postcode, besides 'family' and 'birthdate'");
  }
  if (email?.includes('*')) throw invalidSearch("Wildcards cannot be used in 'email'");
  if (phone?.includes('*')) throw invalidSearch("Wildcards cannot be used in 'phone'");

  const result: SearchQuery = {
    given: givens.flatMap((given) => givenTerms(given, fuzzy)),
    birthDate: dateRange('birthdate', birthDates),
    fuzzy,
    exact,
    history: fuzzy || flag(values, '_history'),
    maxResults,
  };
  if (family !== undefined) result.family = textTerm('family', normaliseName(family, true), fuzzy);
  if (gender !== undefined) result.gender = gender;
  if (deathDates.length > 0) result.deathDate = dateRange('death-date', deathDates);
  if (postcode !== undefined) result.postcode = textTerm(postcodeName, normalisePostcode(postcode, true), fuzzy);
  if (gp !== undefined) result.gp = gp.toUpperCase();
  if (email !== undefined) result.email = normaliseEmail(email);
  if (phone !== undefined) result.phone = normalisePhone(phone);
  return result;
}
