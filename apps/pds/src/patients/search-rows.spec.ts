import type { Patient } from '@platform/contracts-pds';
import janeSmith from '../sandbox/data/Patient_9000000009.json';
import { normaliseName, normalisePhone, normalisePostcode, searchRowsOf } from './search-rows';
import { searchRowStatements } from './search-rows.repository';

describe('search rows', () => {
  it('normalises names as searches compare them', () => {
    expect(normaliseName('Smith')).toBe('smith');
    expect(normaliseName("  O'Reilly ")).toBe('oreilly');
    expect(normaliseName('Smith-Jones')).toBe('smith jones');
    expect(normaliseName('Kociński')).toBe('kocinski');
    expect(normaliseName('Łukasz')).toBe('lukasz');
    expect(normaliseName('Strauß')).toBe('strauss');
    expect(normaliseName('Sm*th', true)).toBe('sm*th');
    expect(normaliseName('Sm*th')).toBe('sm th');
  });

  it('normalises postcodes and phone numbers', () => {
    expect(normalisePostcode('ls1 6ae')).toBe('LS16AE');
    expect(normalisePostcode('LS*', true)).toBe('LS*');
    expect(normalisePhone('+44 (0)1632 960587')).toBe('01632960587');
    expect(normalisePhone('+44 1632 960587')).toBe('01632960587');
    expect(normalisePhone('01632 960-587')).toBe('01632960587');
  });

  it("derives the sandbox Jane Smith's rows from her resource", () => {
    expect(searchRowsOf(janeSmith as unknown as Patient)).toEqual({
      patient: {
        gender: 'female',
        birthDate: '2010-10-22',
        deathDate: '2010-10-22',
        gpOds: 'Y12345',
        emails: ['jane.smith@example.com'],
        phones: ['01632960587'],
        previousEmails: [],
        previousPhones: [],
      },
      names: [
        {
          family: 'Smith',
          given: ['Jane'],
          familyNorm: 'smith',
          givenNorm: ['jane'],
          birthDate: '2010-10-22',
          current: true,
        },
      ],
      // Home and temporary addresses: both are searched.
      addresses: [
        { postcodeNorm: 'LS16AE', current: true },
        { postcodeNorm: 'LS16AE', current: true },
      ],
    });
  });

  it('keeps previous names and addresses as history, and skips what it cannot search on', () => {
    const rows = searchRowsOf({
      resourceType: 'Patient',
      id: '9000000009',
      meta: { versionId: '1' },
      name: [
        { use: 'usual', family: 'Brown', given: ['Mary', 'Ann'] },
        { use: 'old', family: 'Jones', given: ['Mary'] },
        { use: 'nickname', family: 'Brown', given: ['Mary-Ann  Louise', ' ', "D'Arcy"] },
        { use: 'usual', text: 'no family or given' },
        'not a name',
      ],
      address: [
        { use: 'old', postalCode: 'B1 1BB' },
        { use: 'home', line: ['no postcode'] },
      ],
      telecom: [
        { system: 'email', use: 'old', value: 'Old@Example.com' },
        { system: 'phone', value: '' },
        { system: 'phone', use: 'old', value: '+44 1632 960999' },
        { system: 'phone', use: 'mobile', value: '07700 900123' },
        // Still current: not a previous number as well.
        { system: 'phone', use: 'old', value: '07700900123' },
      ],
    });
    expect(rows.names.map((name) => [name.familyNorm, name.givenNorm, name.current])).toEqual([
      ['brown', ['mary', 'ann'], true],
      ['jones', ['mary'], false],
      // Compound given names are kept word by word, as queries are split.
      ['brown', ['mary', 'ann', 'louise', 'darcy'], true],
    ]);
    expect(rows.addresses).toEqual([{ postcodeNorm: 'B11BB', current: false }]);
    expect(rows.patient).toEqual({
      gender: null,
      birthDate: null,
      deathDate: null,
      gpOds: null,
      emails: [],
      phones: ['07700900123'],
      previousEmails: ['old@example.com'],
      previousPhones: ['01632960999'],
    });
  });

  it('replaces the rows of one patient with parameterised statements only', () => {
    const statements = searchRowStatements('pds', '9000000009', searchRowsOf(janeSmith as unknown as Patient));
    expect(statements.map((statement) => statement.text.trim().split(/\s+/).slice(0, 3).join(' '))).toEqual([
      'UPDATE "pds".patient SET',
      'DELETE FROM "pds".patient_name',
      'DELETE FROM "pds".patient_address',
      'INSERT INTO "pds".patient_name',
      'INSERT INTO "pds".patient_address',
    ]);
    for (const statement of statements) expect(statement.text).not.toMatch(/Smith|LS1|2010/);
  });
});
