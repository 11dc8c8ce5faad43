import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import type { Client } from 'pg';
import type { MigrationInterface } from 'typeorm';
import type { PdsClient, Patient, SearchPatientsReply } from '@platform/contracts-pds';
import type { CallContext } from '@platform/shared-nats';
import { referencePath, rejectionOf } from '@platform/shared-testing';
import { PatientRepository } from '../patients/patient.repository';
import { parseSearchQuery } from './search-query';
import { searchStatement } from './search.repository';
import { startPdsUnderTest, type PdsUnderTest } from '../pds.test-harness';
import { SUPERSEDED_CUFF } from '../sandbox/sandbox-patients';
import { GivenNameWords1764800000000 } from '../database/migrations/1764800000000-given-name-words';
import { PreviousContacts1764900000000 } from '../database/migrations/1764900000000-previous-contacts';
import { PDS_DATABASE, type PdsDatabase } from '../database/database.provider';

let schema = '';

function published(file: string): { entry: { resource: Patient; search: { score: number } }[] } {
  return JSON.parse(readFileSync(referencePath('pds-ers', 'pds', 'responses', file), 'utf8')) as {
    entry: { resource: Patient; search: { score: number } }[];
  };
}

let counter = 0;
function context(requestId = `search-${(counter += 1)}`): CallContext {
  return { requestId, caller: { id: 'gp-user', username: 'clinician', roles: ['clinician'], organisation: 'A83008', accessMode: 'user-restricted' } };
}

/** A synthetic patient of this test (valid NHS numbers 9010001xxx are not sandbox patients). */
function patient(
  nhsNumber: string,
  fields: {
    name: unknown[];
    birthDate: string;
    gender?: string;
    address?: unknown[];
    generalPractitioner?: unknown[];
    telecom?: unknown[];
  },
): Patient {
  return {
    resourceType: 'Patient',
    id: nhsNumber,
    meta: { versionId: '1' },
    identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumber }],
    gender: fields.gender ?? 'male',
    ...fields,
  };
}

describe('PDS patient search against PostgreSQL', () => {
  let under: PdsUnderTest;
  let app: INestApplication;
  let pds: PdsClient;
  let db: Client;

  const search = (query: string, requestId?: string): Promise<SearchPatientsReply> =>
    pds.searchPatients({ query }, context(requestId));
  const ids = (reply: SearchPatientsReply): string[] => reply.matches.map((match) => match.patient.id);

  beforeAll(async () => {
    under = await startPdsUnderTest({ schemaPrefix: 'pds_search', seed: 'sandbox' });
    ({ app, pds, db, schema } = under);
    // Test patients written the way seeding writes them, so their search rows are derived from the resource.
    const repository = app.get(PatientRepository);
    await repository.insertMissing([
      // John Paul James Quinn with a compound first given name, and Jean Luc Picard with separate ones.
      record(
        patient('9010001059', {
          name: [{ use: 'usual', family: 'Quinn', given: ['John Paul', 'James'] }],
          birthDate: '1985-02-11',
        }),
      ),
      record(
        patient('9010001067', {
          name: [{ use: 'usual', family: 'Picard', given: ['Jean', 'Luc'] }],
          birthDate: '1985-02-11',
        }),
      ),
      // Ann Ward, married twice: 9010001075 (Ward) was merged into 9010001083 (Hughes), itself merged into
      // 9010001091 (Hughes), who keeps a previous e-mail address and phone number.
      record(
        patient('9010001091', {
          name: [{ use: 'usual', family: 'Hughes', given: ['Ann'] }],
          birthDate: '1962-09-30',
          telecom: [
            { system: 'email', use: 'home', value: 'ann.hughes@example.com' },
            { system: 'email', use: 'old', value: 'Ann.Ward@Example.com' },
            { system: 'phone', use: 'old', value: '+44 1632 960111' },
          ],
        }),
      ),
      {
        ...record(
          patient('9010001083', {
            name: [{ use: 'usual', family: 'Hughes', given: ['Ann'] }],
            birthDate: '1962-09-30',
          }),
        ),
        supersededBy: '9010001091',
      },
      {
        ...record(
          patient('9010001075', { name: [{ use: 'usual', family: 'Ward', given: ['Ann'] }], birthDate: '1962-09-30' }),
        ),
        supersededBy: '9010001083',
      },
      // Adam Thomas, to be found by "Thomas Adam".
      record(
        patient('9010001008', { name: [{ use: 'usual', family: 'Thomas', given: ['Adam'] }], birthDate: '1980-03-14' }),
      ),
      // Mary Brown, née Jones: a previous name.
      record(
        patient('9010001016', {
          gender: 'female',
          birthDate: '1975-07-01',
          name: [
            { use: 'usual', family: 'Brown', given: ['Mary', 'Ann'] },
            { use: 'old', family: 'Jones', given: ['Mary', 'Ann'], period: { end: '2001-06-30' } },
          ],
          address: [
            { use: 'home', line: ['2 New Street'], postalCode: 'M1 1AE' },
            { use: 'old', line: ['9 Old Road'], postalCode: 'B1 1BB' },
          ],
          generalPractitioner: [
            {
              type: 'Organization',
              identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A83008' },
            },
          ],
        }),
      ),
      // Peter O'Reilly twice: 9010001032 was merged into 9010001024 (superseded), and an invalidated record.
      record(
        patient('9010001024', {
          name: [{ use: 'usual', family: "O'Reilly", given: ['Peter'] }],
          birthDate: '1990-01-02',
        }),
      ),
      {
        ...record(
          patient('9010001032', {
            name: [{ use: 'usual', family: "O'Reilly", given: ['Peter'] }],
            birthDate: '1990-01-02',
          }),
        ),
        supersededBy: '9010001024',
      },
      {
        ...record(
          patient('9010001040', {
            name: [{ use: 'usual', family: "O'Reilly", given: ['Pete'] }],
            birthDate: '1990-01-02',
          }),
        ),
        invalidated: true,
      },
    ]);
  });

  afterAll(async () => {
    await under?.stop();
  });

  /** Runs one migration's `up` again on this test's schema, as an upgrade of stored data would. */
  async function runMigration(migration: MigrationInterface): Promise<void> {
    const queryRunner = app.get<PdsDatabase>(PDS_DATABASE).dataSource.createQueryRunner();
    try {
      await migration.up(queryRunner);
    } finally {
      await queryRunner.release();
    }
  }

  function record(resource: Patient): Parameters<PatientRepository['insertMissing']>[0][number] {
    return { nhsNumber: resource.id, version: 1, resource, restricted: false, supersededBy: null, invalidated: false };
  }

  describe('the NHS sandbox patients', () => {
    it('finds Jane Smith by family name and birth date with score 1, shown as the NHS search shows her', async () => {
      const reply = await search('family=Smith&gender=female&birthdate=eq2010-10-22');
      expect(reply.tooManyMatches).toBe(false);
      expect(reply.matches).toHaveLength(1);
      expect(reply.matches[0]?.score).toBe(1);
      expect(reply.matches[0]?.patient).toEqual(published('PatientSearch.json').entry[0]?.resource);
    });

    it('answers the sandbox scenarios: email and phone, a date range, a wrong e-mail address', async () => {
      const base = 'family=Smith&gender=female&birthdate=eq2010-10-22';
      expect(ids(await search(`${base}&email=jane.smith@example.com&phone=01632960587`))).toEqual(['9000000009']);
      expect(ids(await search(`${base}&email=JANE.SMITH@example.com`))).toEqual(['9000000009']);
      expect(ids(await search(`${base}&email=deb.trotter@example.com&phone=0121111111`))).toEqual([]);
      const range = 'family=Smith&gender=female&birthdate=ge2010-10-21&birthdate=le2010-10-23';
      expect(ids(await search(range))).toEqual(['9000000009']);
      expect(ids(await search('family=Smith&birthdate=ge2010-10-23'))).toEqual([]);
      // John Paul James Smith (9000000106), the compound-name search's patient, is the male Smith born that day.
      expect(ids(await search('family=smith&birthdate=eq2010-10-22&gender=male'))).toEqual(['9000000106']);
    });

    it('finds Smith and Smythe with a wildcard, and answers TOO_MANY_MATCHES when they are more than asked for', async () => {
      const reply = await search('family=Sm*&gender=female&birthdate=eq2010-10-22');
      expect(ids(reply).sort()).toEqual(['9000000009', '9000000017', '9000000025']);
      expect(reply.matches.every((match) => match.score > 0 && match.score < 1)).toBe(true);
      const before = await db.query(`SELECT count(*)::int AS n FROM "${schema}".read_audit`);
      const limited = await search('family=Sm*&gender=female&birthdate=eq2010-10-22&_max-results=1');
      expect(limited).toEqual({ matches: [], tooManyMatches: true });
      const after = await db.query(`SELECT count(*)::int AS n FROM "${schema}".read_audit`);
      expect(after.rows[0].n).toBe(before.rows[0].n);
      expect((await search('family=Sm*&birthdate=eq2010-10-22&_exact-match=true')).matches).toEqual([]);
    });

    it('finds Smith and Smythe by sound with a fuzzy search, best first, the restricted one redacted', async () => {
      const reply = await search('family=Smyth&given=Jane&birthdate=eq2010-10-22&_fuzzy-match=true');
      // Jane Smith, Jayne Smyth, Janet Smythe, and John (a homophone of Jane) Paul Smith, all born 2010-10-22.
      expect(ids(reply).sort()).toEqual(['9000000009', '9000000017', '9000000025', '9000000106']);
      const scores = reply.matches.map((match) => match.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      expect(scores.every((score) => score > 0 && score < 1)).toBe(true);
      const smythe = reply.matches.find((match) => match.patient.id === '9000000025')!.patient;
      expect(smythe.meta.security?.[0]?.code).toBe('R');
      for (const field of ['address', 'telecom', 'contact', 'generalPractitioner'])
        expect(smythe).not.toHaveProperty(field);
      expect(JSON.stringify(smythe)).not.toMatch(/Hidden Lane|01632960587|FCG72|Y12345/);
      // Jane Smith's own given name scores higher than Janet Smythe's.
      const score = (id: string): number => reply.matches.find((match) => match.patient.id === id)?.score ?? 0;
      expect(score('9000000009')).toBeGreaterThan(score('9000000025'));
    });

    it('shows a restricted patient to a name search but never to one that names a postcode or a GP', async () => {
      expect(ids(await search('family=Smythe&birthdate=eq2010-10-22'))).toEqual(['9000000025']);
      expect(ids(await search('family=Smythe&birthdate=eq2010-10-22&address-postalcode=LS1 6AE'))).toEqual([]);
      expect(ids(await search('family=Smythe&birthdate=eq2010-10-22&address-postalcode=LS*'))).toEqual([]);
      expect(ids(await search('family=Smythe&birthdate=eq2010-10-22&general-practitioner=Y12345'))).toEqual([]);
      // The same postcode finds the unrestricted Jane Smith, spaces and case aside.
      expect(ids(await search('family=Smith&gender=female&birthdate=eq2010-10-22&address-postalcode=ls16ae'))).toEqual([
        '9000000009',
      ]);
      expect(
        ids(await search('family=Smith&gender=female&birthdate=eq2010-10-22&general-practitioner=y12345')),
      ).toEqual(['9000000009']);
    });
  });

  describe('the NHS published search sets (seeded in sandbox mode)', () => {
    const publishedIds = (file: string): string[] => published(file).entry.map((entry) => entry.resource.id);

    it('finds Kathy KNAPP with an exact match, score 1, as the NHS shows her', async () => {
      const reply = await search('family=KNAPP&given=Kathy&gender=female&birthdate=eq1943-07-03&_exact-match=true');
      expect(ids(reply)).toEqual(['9736363120']);
      expect(reply.matches[0]?.score).toBe(1);
      expect(reply.matches[0]?.patient).toEqual(published('search_exact_match_searchset.json').entry[0]?.resource);
      // Exact means exact: another spelling of the name finds nobody.
      expect(ids(await search('family=KNAP&given=Kathy&birthdate=eq1943-07-03&_exact-match=true'))).toEqual([]);
    });

    it('finds Jane CUFF once, as her surviving record, although a superseded record has the same details', async () => {
      const reply = await search('family=CUFF&gender=female&birthdate=eq1926-01-07');
      expect(ids(reply)).toEqual(publishedIds('search_superseded_searchset.json'));
      expect(reply.matches[0]?.patient).toEqual(published('search_superseded_searchset.json').entry[0]?.resource);
      expect(ids(await search('family=Cuf&given=Jane&birthdate=eq1926-01-07&_fuzzy-match=true'))).toEqual([
        '9732019395',
      ]);
      const superseded = await db.query(`SELECT superseded_by FROM "${schema}".patient WHERE nhs_number = $1`, [
        SUPERSEDED_CUFF,
      ]);
      expect(superseded.rows).toEqual([{ superseded_by: '9732019395' }]);
    });

    it('finds the four Luke YOUDS of every gender, each with score 1, and TOO_MANY_MATCHES when one is asked for', async () => {
      const reply = await search('family=YOUDS&birthdate=eq1970-01-24');
      expect(ids(reply).sort()).toEqual(publishedIds('search_vague_4_matches_searchset.json').sort());
      expect(reply.matches.map((match) => match.score)).toEqual([1, 1, 1, 1]);
      expect(await search('family=YOUDS&birthdate=eq1970-01-24&_max-results=1')).toEqual({
        matches: [],
        tooManyMatches: true,
      });
    });

    it('finds the twenty Smiths of DN17 4AA by sound from the NHS example query, best first', async () => {
      const query =
        'family=Smythe&given=Mat&gender=male&birthdate=ge2000-05-03&address-postalcode=DN17 4AA&_fuzzy-match=true';
      const reply = await search(query);
      expect(ids(reply).sort()).toEqual(publishedIds('search_fuzzy_multimatch_searchset.json').sort());
      const scores = reply.matches.map((match) => match.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      expect(scores.every((score) => score > 0 && score < 1)).toBe(true);
    });
  });

  describe('matching', () => {
    it('tolerates transposed given and family names in a fuzzy search only', async () => {
      expect(ids(await search('family=Adam&given=Thomas&birthdate=eq1980-03-14'))).toEqual([]);
      const reply = await search('family=Adam&given=Thomas&birthdate=eq1980-03-14&_fuzzy-match=true');
      expect(ids(reply)).toEqual(['9010001008']);
      expect(reply.matches[0]?.score).toBeLessThan(1);
      const direct = await search('family=Thomas&given=Adam&birthdate=eq1980-03-14&_fuzzy-match=true');
      expect(direct.matches[0]?.score).toBe(1);
    });

    it('matches previous names and addresses with _history (and always when fuzzy), showing the current record', async () => {
      expect(ids(await search('family=Jones&birthdate=eq1975-07-01'))).toEqual([]);
      const history = await search('family=Jones&birthdate=eq1975-07-01&_history=true');
      expect(ids(history)).toEqual(['9010001016']);
      expect(history.matches[0]?.score).toBeLessThan(1);
      expect(history.matches[0]?.patient.name).toEqual([{ use: 'usual', family: 'Brown', given: ['Mary', 'Ann'] }]);
      expect(ids(await search('family=Jones&given=Mary&birthdate=eq1975-07-01&_fuzzy-match=true'))).toEqual([
        '9010001016',
      ]);
      expect(ids(await search('family=Brown&birthdate=eq1975-07-01&address-postalcode=B1 1BB'))).toEqual([]);
      expect(ids(await search('family=Brown&birthdate=eq1975-07-01&address-postalcode=B1 1BB&_history=true'))).toEqual([
        '9010001016',
      ]);
      const home = await search('family=Brown&birthdate=eq1975-07-01&address-postalcode=M1*');
      expect(home.matches[0]?.patient.address).toEqual([{ use: 'home', line: ['2 New Street'], postalCode: 'M1 1AE' }]);
    });

    it('matches every given name asked for, a later one scoring lower than the first', async () => {
      const first = await search('family=Brown&given=Mary&birthdate=eq1975-07-01');
      expect(first.matches[0]?.score).toBe(1);
      const both = await search('family=Brown&given=Mary&given=Ann&birthdate=eq1975-07-01');
      expect(both.matches[0]?.score).toBe(1);
      const second = await search('family=Brown&given=Ann&birthdate=eq1975-07-01');
      expect(second.matches[0]?.score).toBeLessThan(1);
      expect(ids(await search('family=Brown&given=Jane&birthdate=eq1975-07-01'))).toEqual([]);
      expect(ids(await search('family=Brown&given=Ma*&birthdate=eq1975-07-01'))).toEqual(['9010001016']);
    });

    it('matches compound given names word by word, in the record and in the query', async () => {
      // The NHS's own example: given=John Paul&given=James.
      const compound = await search('family=Quinn&given=John Paul&given=James&birthdate=eq1985-02-11');
      expect(ids(compound)).toEqual(['9010001059']);
      expect(compound.matches[0]?.score).toBe(1);
      expect(ids(await search('family=Quinn&given=John&given=Paul&birthdate=eq1985-02-11'))).toEqual(['9010001059']);
      expect(ids(await search('family=Quinn&given=Paul&birthdate=eq1985-02-11'))).toEqual(['9010001059']);
      expect(ids(await search('family=Quinn&given=John Peter&birthdate=eq1985-02-11'))).toEqual([]);
      // Separate given names in the record, one compound name in the query.
      const together = await search('family=Picard&given=Jean-Luc&birthdate=eq1985-02-11&_exact-match=true');
      expect(ids(together)).toEqual(['9010001067']);
      expect(ids(await search('family=Picard&given=Jean Lu*&birthdate=eq1985-02-11'))).toEqual(['9010001067']);
      expect(ids(await search('family=Pickard&given=Jean Luc&birthdate=eq1985-02-11&_fuzzy-match=true'))).toEqual([
        '9010001067',
      ]);
      // The wildcard rule is the value's: "Jean L*" is allowed, "J*" is not.
      expect(ids(await search('family=Picard&given=Jean L*&birthdate=eq1985-02-11'))).toEqual(['9010001067']);
      expect((await rejectionOf(search('family=Picard&given=J*&birthdate=eq1985-02-11'))).code).toBe(
        'INVALID_SEARCH_DATA',
      );
    });

    it('splits the compound given names that rows written before word matching kept whole', async () => {
      await db.query(
        `UPDATE "${schema}".patient_name SET given_norm = ARRAY['john paul', 'james'] WHERE nhs_number = '9010001059'`,
      );
      expect(ids(await search('family=Quinn&given=John&birthdate=eq1985-02-11'))).toEqual([]);
      await runMigration(new GivenNameWords1764800000000());
      const rows = await db.query(
        `SELECT given_norm, given_first FROM "${schema}".patient_name WHERE nhs_number = '9010001059'`,
      );
      expect(rows.rows).toEqual([{ given_norm: ['john', 'paul', 'james'], given_first: 'john' }]);
      expect(ids(await search('family=Quinn&given=John&birthdate=eq1985-02-11'))).toEqual(['9010001059']);
    });

    it('follows a record merged twice to the surviving record', async () => {
      const reply = await search('family=Ward&given=Ann&birthdate=eq1962-09-30');
      expect(ids(reply)).toEqual(['9010001091']);
      expect(reply.matches[0]?.patient.name).toEqual([{ use: 'usual', family: 'Hughes', given: ['Ann'] }]);
      expect(ids(await search('family=Hughes&birthdate=eq1962-09-30'))).toEqual(['9010001091']);
    });

    it('matches previous e-mail addresses and phone numbers with _history only, scoring less than current ones', async () => {
      const base = 'family=Hughes&birthdate=eq1962-09-30';
      expect(ids(await search(`${base}&email=ann.ward@example.com`))).toEqual([]);
      expect(ids(await search(`${base}&phone=01632960111`))).toEqual([]);
      const byOldEmail = await search(`${base}&email=ann.ward@example.com&_history=true`);
      expect(ids(byOldEmail)).toEqual(['9010001091']);
      expect(byOldEmail.matches[0]?.score).toBeLessThan(1);
      const byOldPhone = await search(`${base}&phone=01632 960111&_history=true`);
      expect(ids(byOldPhone)).toEqual(['9010001091']);
      expect(byOldPhone.matches[0]?.score).toBeLessThan(1);
      const current = await search(`${base}&email=ann.hughes@example.com&_history=true`);
      expect(current.matches[0]?.score).toBe(1);
      expect(ids(await search(`${base}&email=someone.else@example.com&_history=true`))).toEqual([]);
    });

    it('fills the previous contacts of records stored before they were searched', async () => {
      await db.query(`ALTER TABLE "${schema}".patient DROP COLUMN previous_emails, DROP COLUMN previous_phones`);
      await runMigration(new PreviousContacts1764900000000());
      const rows = await db.query(
        `SELECT nhs_number, previous_emails, previous_phones FROM "${schema}".patient WHERE cardinality(previous_emails) > 0 OR cardinality(previous_phones) > 0`,
      );
      expect(rows.rows).toEqual([
        { nhs_number: '9010001091', previous_emails: ['ann.ward@example.com'], previous_phones: ['01632960111'] },
      ]);
      expect(
        ids(await search('family=Hughes&birthdate=eq1962-09-30&email=ann.ward@example.com&_history=true')),
      ).toEqual(['9010001091']);
    });

    it('finds a fuzzy match by given name, gender and postcode without a family name', async () => {
      const reply = await search(
        'given=Marie&gender=female&birthdate=eq1975-07-01&address-postalcode=M11AE&_fuzzy-match=true',
      );
      expect(ids(reply)).toEqual(['9010001016']);
    });

    it('returns the surviving record for a superseded one, once, and never an invalidated record', async () => {
      const reply = await search("family=O'Reilly&birthdate=eq1990-01-02");
      expect(ids(reply)).toEqual(['9010001024']);
      expect(ids(await search('family=oreilly&given=Pete&birthdate=eq1990-01-02'))).toEqual([]);
    });

    it('audits every patient returned as a read of that record', async () => {
      await search('family=Sm*&gender=female&birthdate=eq2010-10-22', 'search-audit');
      const rows = await db.query<{ nhs_number: string; action: string; actor_id: string; organisation: string }>(
        `SELECT nhs_number, action, actor_id, organisation FROM "${schema}".read_audit WHERE request_id = 'search-audit' ORDER BY nhs_number`,
      );
      expect(rows.rows).toEqual([
        { nhs_number: '9000000009', action: 'patient.search', actor_id: 'gp-user', organisation: 'A83008' },
        { nhs_number: '9000000017', action: 'patient.search', actor_id: 'gp-user', organisation: 'A83008' },
        { nhs_number: '9000000025', action: 'patient.search', actor_id: 'gp-user', organisation: 'A83008' },
      ]);
    });
  });

  describe('bad searches', () => {
    it.each([
      ['', 'UNSUPPORTED_SERVICE'],
      ['family=Smith&birthdate=eq2010-10-22&colour=blue', 'ADDITIONAL_PROPERTIES'],
      ['family=Smith&birthdate=2010-13-01', 'INVALID_VALUE'],
      ['family=Smith', 'MISSING_VALUE'],
      ['birthdate=eq2010-10-22', 'INVALID_SEARCH_DATA'],
      ['family=S*&birthdate=eq2010-10-22', 'INVALID_SEARCH_DATA'],
      ['family=Smith&birthdate=eq2010-10-22&_max-results=51', 'INVALID_VALUE'],
    ])('answers %j with %s, over the bus', async (query, code) => {
      const error = await rejectionOf(search(query));
      expect(error.code).toBe(code);
      expect(error.httpStatus).toBe(400);
    });
  });

  describe('in PostgreSQL, with indexes', () => {
    it.each([
      ['exact', 'family=Smith&birthdate=eq2010-10-22', /patient_name_family_idx/],
      ['wildcard', 'family=Sm*th&birthdate=ge1900-01-01', /patient_name_family_(idx|trgm_idx)/],
      [
        'fuzzy',
        'family=Smyth&given=Jane&birthdate=eq2010-10-22&_fuzzy-match=true',
        /patient_name_(family|given)_key_idx/,
      ],
    ])('matches a %s search through the name indexes', async (_kind, query, index) => {
      const statement = searchStatement(schema, parseSearchQuery(query));
      await db.query('BEGIN');
      try {
        // The tables here are tiny, where a scan is cheapest; forbid scans to show the indexes serve the query.
        await db.query('SET LOCAL enable_seqscan = off');
        const plan = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${statement.text}`, statement.values);
        expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toMatch(index);
      } finally {
        await db.query('ROLLBACK');
      }
    });
  });
});
