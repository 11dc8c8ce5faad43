import 'reflect-metadata';
import { PlatformError } from '@platform/shared-errors';
import { parseSearchQuery } from './search-query';

function failure(query: string): { code: string; status: number; diagnostics: string } {
  try {
    parseSearchQuery(query);
  } catch (error) {
    if (error instanceof PlatformError) {
      return { code: error.code, status: error.httpStatus, diagnostics: error.diagnostics ?? '' };
    }
    throw error;
  }
  throw new Error(`expected ${query} to be refused`);
}

const BASE = 'family=Smith&birthdate=eq2010-10-22';

describe('parseSearchQuery', () => {
  it('reads a basic search', () => {
    expect(parseSearchQuery(BASE)).toEqual({
      family: { value: 'smith' },
      given: [],
      birthDate: { from: '2010-10-22', to: '2010-10-22' },
      fuzzy: false,
      exact: false,
      history: false,
      maxResults: 50,
    });
  });

  it('reads every parameter, normalised as the stored rows are', () => {
    const query = parseSearchQuery(
      "family=O'Reilly-Smith&given=J%C3%B3hn Paul&given=Ja*&gender=male&birthdate=ge1950-01-01&birthdate=le1960-12-31" +
        '&death-date=le2020-01-01&address-postcode=ls1 6ae&general-practitioner=y12345&email=Jo@Example.COM' +
        '&phone=%2B44 1632 960587&_history=true&_max-results=10&_exact-match=false',
    );
    expect(query).toEqual({
      family: { value: 'oreilly smith' },
      given: [{ value: 'john' }, { value: 'paul' }, { value: 'ja*', pattern: 'ja%' }],
      gender: 'male',
      birthDate: { from: '1950-01-01', to: '1960-12-31' },
      deathDate: { to: '2020-01-01' },
      postcode: { value: 'LS16AE' },
      gp: 'Y12345',
      email: 'jo@example.com',
      phone: '01632960587',
      fuzzy: false,
      exact: false,
      history: true,
      maxResults: 10,
    });
  });

  it('turns wildcards into LIKE patterns, in names and postcodes', () => {
    const query = parseSearchQuery('family=Sm*th&birthdate=2010-10-22&address-postalcode=LS*');
    expect(query.family).toEqual({ value: 'sm*th', pattern: 'sm%th' });
    expect(query.postcode).toEqual({ value: 'LS*', pattern: 'LS%' });
  });

  it('always includes history in a fuzzy search, and accepts its other combinations', () => {
    expect(parseSearchQuery(`${BASE}&given=Jane&_fuzzy-match=true`)).toMatchObject({ fuzzy: true, history: true });
    expect(parseSearchQuery(`${BASE}&gender=female&address-postalcode=LS1 6AE&_fuzzy-match=true`).fuzzy).toBe(true);
    const withoutFamily = parseSearchQuery(
      'given=Jane&gender=female&address-postalcode=LS1 6AE&birthdate=2010-10-22&_fuzzy-match=true',
    );
    expect(withoutFamily.family).toBeUndefined();
    expect(withoutFamily.given).toEqual([{ value: 'jane' }]);
  });

  describe('refuses bad searches with the NHS code, naming the parameter', () => {
    it.each([
      // no parameters at all
      ['', 'UNSUPPORTED_SERVICE', ''],
      ['&', 'UNSUPPORTED_SERVICE', ''],
      // unknown parameters
      [`${BASE}&colour=blue`, 'ADDITIONAL_PROPERTIES', "'colour'"],
      ['name=Smith', 'ADDITIONAL_PROPERTIES', "'name'"],
      [`${BASE}&_count=5`, 'ADDITIONAL_PROPERTIES', "'_count'"],
      // malformed values
      ['family=Smith&birthdate=22-10-2010', 'INVALID_VALUE', "'birthdate'"],
      ['family=Smith&birthdate=eq2010-02-30', 'INVALID_VALUE', "'birthdate'"],
      ['family=Smith&birthdate=gt2010-10-22', 'INVALID_VALUE', "'birthdate'"],
      ['family=Smith&birthdate=2010-10-22T10:00:00', 'INVALID_VALUE', "'birthdate'"],
      [`${BASE}&death-date=yesterday`, 'INVALID_VALUE', "'death-date'"],
      [`${BASE}&gender=mal`, 'INVALID_VALUE', "'gender'"],
      [`${BASE}&_fuzzy-match=yes`, 'INVALID_VALUE', "'_fuzzy-match'"],
      [`${BASE}&_history=1`, 'INVALID_VALUE', "'_history'"],
      [`${BASE}&_max-results=0`, 'INVALID_VALUE', "'_max-results'"],
      [`${BASE}&_max-results=51`, 'INVALID_VALUE', "'_max-results'"],
      [`${BASE}&_max-results=ten`, 'INVALID_VALUE', "'_max-results'"],
      [`${BASE}&_max-results=1.5`, 'INVALID_VALUE', "'_max-results'"],
      ['family=&birthdate=eq2010-10-22', 'INVALID_VALUE', "'family'"],
      ['family=Sm1th&birthdate=eq2010-10-22', 'INVALID_VALUE', "'family'"],
      [`${BASE}&given=<script>`, 'INVALID_VALUE', "'given'"],
      [`${BASE}&address-postalcode=LS1_6AE`, 'INVALID_VALUE', "'address-postalcode'"],
      [`${BASE}&general-practitioner=Y1`, 'INVALID_VALUE', "'general-practitioner'"],
      [`${BASE}&email=not-an-address`, 'INVALID_VALUE', "'email'"],
      [`${BASE}&phone=call me`, 'INVALID_VALUE', "'phone'"],
      [`${BASE}&family=Jones`, 'INVALID_VALUE', "'family'"],
      [`${BASE}&birthdate=ge2000-01-01&birthdate=le2020-01-01`, 'INVALID_VALUE', "'birthdate'"],
      [`${BASE}&address-postalcode=LS1&address-postcode=LS1`, 'INVALID_VALUE', "'address-postcode'"],
      // no birth date
      ['family=Smith', 'MISSING_VALUE', "'birthdate'"],
      ['email=jane.smith@example.com&phone=01632960587', 'MISSING_VALUE', "'birthdate'"],
      // searches that are not allowed
      ['birthdate=eq2010-10-22', 'INVALID_SEARCH_DATA', "'family'"],
      ['given=Jane&birthdate=eq2010-10-22', 'INVALID_SEARCH_DATA', "'family'"],
      ['family=S*&birthdate=eq2010-10-22', 'INVALID_SEARCH_DATA', "'family'"],
      ['family=*mith&birthdate=eq2010-10-22', 'INVALID_SEARCH_DATA', "'family'"],
      [`${BASE}&given=J*`, 'INVALID_SEARCH_DATA', "'given'"],
      [`${BASE}&address-postalcode=L*`, 'INVALID_SEARCH_DATA', "'address-postalcode'"],
      ['family=Sm*&given=Jane&birthdate=eq2010-10-22&_fuzzy-match=true', 'INVALID_SEARCH_DATA', "'family'"],
      [`${BASE}&email=j*@example.com`, 'INVALID_SEARCH_DATA', "'email'"],
      [`${BASE}&phone=016329*`, 'INVALID_SEARCH_DATA', "'phone'"],
      ['family=Smith&birthdate=eq2010-10-22&birthdate=le2011-01-01', 'INVALID_SEARCH_DATA', "'birthdate'"],
      ['family=Smith&birthdate=ge2011-01-01&birthdate=le2010-01-01', 'INVALID_SEARCH_DATA', "'birthdate'"],
      [`${BASE}&_fuzzy-match=true`, 'INVALID_SEARCH_DATA', 'fuzzy'],
      [`${BASE}&given=Jane&_fuzzy-match=true&_exact-match=true`, 'INVALID_SEARCH_DATA', "'_exact-match'"],
    ])('%j -> %s', (query, code, named) => {
      const error = failure(query);
      expect(error.code).toBe(code);
      expect(error.status).toBe(400);
      expect(error.diagnostics).toContain(named);
    });
  });

  describe('in the NHS order of precedence', () => {
    it.each([
      ['an unknown parameter before a bad date', 'colour=blue&family=Smith&birthdate=bad', 'ADDITIONAL_PROPERTIES'],
      ['a bad date before a missing birth date', 'death-date=bad&family=Smith', 'INVALID_VALUE'],
      ['a bad value before a missing family name', 'birthdate=2010-99-01', 'INVALID_VALUE'],
      ['a missing birth date before a missing family name', 'given=Jane', 'MISSING_VALUE'],
      ['a missing birth date before a misplaced wildcard', 'family=*', 'INVALID_VALUE'],
      ['a missing birth date before a misplaced wildcard', 'family=S*th', 'MISSING_VALUE'],
      ['a bad _max-results before a missing family name', 'birthdate=2010-10-22&_max-results=99', 'INVALID_VALUE'],
    ])('%s', (_case, query, code) => {
      expect(failure(query).code).toBe(code);
    });
  });

  it('never quotes a patient detail from a bad value in its diagnostics', () => {
    for (const query of [
      'family=Sm1th&birthdate=eq2010-10-22',
      'family=Smith&birthdate=1999-02-31',
      `${BASE}&email=jane.smith@`,
      `${BASE}&phone=0163296058x`,
      `${BASE}&address-postalcode=LS1_6AE`,
    ]) {
      expect(failure(query).diagnostics).not.toMatch(/Sm1th|1999-02-31|jane\.smith|0163296058|LS1_6AE/);
    }
  });
});
