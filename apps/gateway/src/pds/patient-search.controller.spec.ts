import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FakePdsClient, patientSearchsetProblems, type Patient, type PdsApi } from '@platform/contracts-pds';
import { referencePath } from '@platform/shared-testing';
import type { GatewaySettings } from '../gateway.settings';
import { PatientSearchController } from './patient-search.controller';

const jane = JSON.parse(
  readFileSync(referencePath('pds-ers', 'pds', 'responses', 'Patient_9000000009.json'), 'utf8'),
) as Patient;
const settings: GatewaySettings = {
  sandbox: false,
  publicUrl: 'https://api.example.test',
  rateLimit: { rate: 1, burst: 1 },
  rateLimitOverrides: new Map(),
  addressRateLimit: { rate: 1, burst: 1 },
  publicClients: [],
};

function request(url: string): FastifyRequest {
  // The Host header is the caller's to choose: the fullUrl values must not come from it.
  return {
    url,
    callContext: { requestId: 'r-1' },
    protocol: 'http',
    host: 'evil.example',
  } as unknown as FastifyRequest;
}

function reply(): FastifyReply & { contentType?: string } {
  const fake = {
    contentType: undefined as string | undefined,
    type(value: string) {
      fake.contentType = value;
      return fake;
    },
  };
  return fake as unknown as FastifyReply & { contentType?: string };
}

describe('PatientSearchController', () => {
  it('wraps the matches in a searchset Bundle with absolute fullUrls and scores', async () => {
    const pds = new FakePdsClient().withPatient(jane);
    const answer = reply();
    const bundle = await new PatientSearchController(pds, settings).search(
      request('/personal-demographics/FHIR/R4/Patient?family=Smith&birthdate=eq2010-10-22'),
      answer,
    );
    expect(patientSearchsetProblems(bundle)).toEqual([]);
    expect(bundle).toMatchObject({
      resourceType: 'Bundle',
      type: 'searchset',
      total: 1,
      entry: [
        {
          fullUrl: 'https://api.example.test/personal-demographics/FHIR/R4/Patient/9000000009',
          search: { score: 1 },
          resource: { id: '9000000009' },
        },
      ],
    });
    expect(Object.keys((bundle as { entry: object[] }).entry[0])).toEqual(['fullUrl', 'search', 'resource']);
    expect(answer.contentType).toMatch(/^application\/fhir\+json/);
  });

  it('passes the query string on exactly as sent, repeated parameters and all', async () => {
    const seen: string[] = [];
    const pds = {
      searchPatients: ({ query }: { query: string }) => {
        seen.push(query);
        return Promise.resolve({ matches: [], tooManyMatches: false });
      },
    } as unknown as PdsApi;
    const controller = new PatientSearchController(pds, settings);
    const empty = await controller.search(
      request('/personal-demographics/FHIR/R4/Patient?family=Sm%2A&birthdate=ge2010-01-01&birthdate=le2010-12-31'),
      reply(),
    );
    await controller.search(request('/personal-demographics/FHIR/R4/Patient'), reply());
    expect(seen).toEqual(['family=Sm%2A&birthdate=ge2010-01-01&birthdate=le2010-12-31', '']);
    expect(empty).not.toHaveProperty('entry');
    expect(patientSearchsetProblems(empty)).toEqual([]);
  });

  it('answers too many matches with the informational OperationOutcome Spine sends with HTTP 200', async () => {
    const pds = {
      searchPatients: () => Promise.resolve({ matches: [], tooManyMatches: true }),
    } as unknown as PdsApi;
    const outcome = await new PatientSearchController(pds, settings).search(
      request('/personal-demographics/FHIR/R4/Patient?family=Sm*&birthdate=2010-10-22&_max-results=1'),
      reply(),
    );
    expect(outcome).toEqual(
      JSON.parse(readFileSync(referencePath('pds-ers', 'pds', 'errors', 'TOO_MANY_MATCHES.json'), 'utf8')),
    );
  });
});
