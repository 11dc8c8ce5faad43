import 'reflect-metadata';
import { readdirSync, readFileSync } from 'node:fs';
import { errorDefinition, operationOutcome } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { referencePath, rejectionOf } from '@platform/shared-testing';
import { PdsClient } from './client';
import { FakePdsClient } from './fake-client';
import type { Patient } from './payloads';
import type { SearchPatientsReply } from './search';
import { patientSearchsetProblems } from './searchset-shape';
import { PDS_SUBJECTS } from './subjects';
import { stubRpc } from '@platform/testing-services';

const responses = referencePath('pds-ers', 'pds', 'responses');
const read = (file: string): unknown => JSON.parse(readFileSync(`${responses}/${file}`, 'utf8'));
const searchExamples = readdirSync(responses)
  .filter((file) => /^(PatientSearch|Sensitive_PatientSearch|search_.*)\.json$/.test(file))
  .sort();
const context: CallContext = { requestId: 'r-1' };

interface Bundle {
  resourceType: string;
  type: string;
  timestamp: string;
  total: number;
  entry?: { fullUrl: string; search: { score: number }; resource: Patient }[];
}

describe('patient search against the NHS published examples', () => {
  it('has every published search response to check against', () => {
    expect(searchExamples).toEqual([
      'PatientSearch.json',
      'Sensitive_PatientSearch.json',
      'search_exact_match_searchset.json',
      'search_fuzzy_multimatch_searchset.json',
      'search_superseded_searchset.json',
      'search_vague_4_matches_searchset.json',
    ]);
  });

  it.each(searchExamples)('%s has the shape of the searchset Bundle the gateway answers', (file) => {
    expect(patientSearchsetProblems(read(file))).toEqual([]);
  });

  it.each(searchExamples)('%s entries pass through the typed client as search matches', async (file) => {
    const bundle = read(file) as Bundle;
    const reply: SearchPatientsReply = {
      matches: (bundle.entry ?? []).map((entry) => ({ patient: entry.resource, score: entry.search.score })),
      tooManyMatches: false,
    };
    const { rpc, sent } = stubRpc(reply);
    const query = 'family=Smith&birthdate=eq2010-10-22';
    await expect(new PdsClient(rpc).searchPatients({ query }, context)).resolves.toEqual(reply);
    expect(sent).toEqual([{ subject: PDS_SUBJECTS.patientSearch, data: { query } }]);
  });

  it('finds what is wrong with a searchset that breaks the shape', () => {
    const good = read('PatientSearch.json') as Bundle;
    const entry = good.entry![0];
    const restricted = read('Sensitive_PatientSearch.json') as Bundle;
    const cases: [string, unknown, RegExp][] = [
      ['a wrong total', { ...good, total: 2 }, /total/],
      ['an empty entry list', { ...good, total: 0, entry: [] }, /entry/],
      ['no score', { ...good, entry: [{ fullUrl: entry.fullUrl, resource: entry.resource }] }, /score/],
      ['a score above 1', { ...good, entry: [{ ...entry, search: { score: 1.5 } }] }, /score/],
      ['a relative fullUrl', { ...good, entry: [{ ...entry, fullUrl: 'Patient/9000000009' }] }, /fullUrl/],
      [
        'a fullUrl of another patient',
        { ...good, entry: [{ ...entry, fullUrl: entry.fullUrl.replace('09', '17') }] },
        /fullUrl/,
      ],
      [
        'worst first',
        {
          ...good,
          total: 2,
          entry: [
            { ...entry, search: { score: 0.5 } },
            { ...entry, search: { score: 0.9 } },
          ],
        },
        /best first/,
      ],
      [
        'a restricted patient with an address',
        {
          ...restricted,
          entry: [
            {
              ...restricted.entry![0],
              resource: { ...restricted.entry![0].resource, address: [{ postalCode: 'LS1' }] },
            },
          ],
        },
        /restricted patient shows address/,
      ],
      [
        'a bad NHS number',
        { ...good, entry: [{ ...entry, resource: { ...entry.resource, id: '9000000000' } }] },
        /NHS number/,
      ],
      ['no timestamp zone', { ...good, timestamp: '2019-12-25T12:00:00' }, /timestamp/],
      ['an OperationOutcome', operationOutcome('TOO_MANY_MATCHES'), /Bundle/],
    ];
    for (const [name, bundle, problem] of cases) {
      expect({ name, problems: patientSearchsetProblems(bundle).join('; ') }).toEqual({
        name,
        problems: expect.stringMatching(problem) as unknown,
      });
    }
    expect(
      patientSearchsetProblems({ resourceType: 'Bundle', type: 'searchset', timestamp: good.timestamp, total: 0 }),
    ).toEqual([]);
  });
});

describe('patient search error codes', () => {
  it.each(['ADDITIONAL_PROPERTIES', 'INVALID_SEARCH_DATA', 'TOO_MANY_MATCHES', 'UNSUPPORTED_SERVICE'])(
    'answers %s as the NHS publishes it',
    (code) => {
      const published = JSON.parse(readFileSync(referencePath('pds-ers', 'pds', 'errors', `${code}.json`), 'utf8')) as {
        issue: { severity: string; code: string; details: { coding: unknown[] } }[];
      };
      const [expected] = published.issue;
      const [actual] = operationOutcome(code).issue;
      expect(actual?.severity).toBe(expected?.severity);
      expect(actual?.code).toBe(expected?.code);
      expect(actual?.details?.coding).toEqual(expected?.details.coding);
    },
  );

  it('uses HTTP 400 for the errors and 200 for too many matches, as Spine does', () => {
    expect(errorDefinition('ADDITIONAL_PROPERTIES').status).toBe(400);
    expect(errorDefinition('INVALID_SEARCH_DATA').status).toBe(400);
    expect(errorDefinition('TOO_MANY_MATCHES').status).toBe(200);
  });
});

describe('the typed client and the fake for search', () => {
  it('refuses a reply that is not a search result', async () => {
    const patient = read('Patient_9000000009.json') as Patient;
    for (const reply of [
      {},
      { matches: [], tooManyMatches: 'no' },
      { matches: [{ patient, score: 2 }], tooManyMatches: false },
      { matches: [{ patient: { resourceType: 'OperationOutcome' }, score: 1 }], tooManyMatches: false },
      { matches: [{ patient, score: 1 }], tooManyMatches: true },
    ]) {
      const { rpc } = stubRpc(reply);
      const error = await rejectionOf(new PdsClient(rpc).searchPatients({ query: 'family=Smith' }, context));
      expect(error.code).toBe('REC_SERVER_ERROR');
    }
  });

  it('refuses to send a request the contract does not describe', async () => {
    const { rpc, sent } = stubRpc({ matches: [], tooManyMatches: false });
    for (const request of [{ query: 42 }, { query: 'x', extra: true }, { query: 'x'.repeat(5000) }]) {
      const error = await rejectionOf(
        new PdsClient(rpc).searchPatients(request as unknown as { query: string }, context),
      );
      expect(error.code).toBe('INVALID_VALUE');
    }
    expect(sent).toHaveLength(0);
  });

  it('has a fake that finds by family name and birth date', async () => {
    const jane = read('Patient_9000000009.json') as Patient;
    const fake = new FakePdsClient().withPatient(jane);
    await expect(fake.searchPatients({ query: 'family=SMITH&birthdate=eq2010-10-22' })).resolves.toEqual({
      matches: [{ patient: jane, score: 1 }],
      tooManyMatches: false,
    });
    await expect(fake.searchPatients({ query: 'family=Jones&birthdate=eq2010-10-22' })).resolves.toEqual({
      matches: [],
      tooManyMatches: false,
    });
    expect((await rejectionOf(fake.searchPatients({ query: '' }))).code).toBe('UNSUPPORTED_SERVICE');
  });
});
