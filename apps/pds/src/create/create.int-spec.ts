import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import { type Client } from 'pg';
import { type PdsClient, type Patient } from '@platform/contracts-pds';
import { isValidNhsNumber } from '@platform/shared-identifiers';
import type { CallContext } from '@platform/shared-nats';
import { referencePath, rejectionOf } from '@platform/shared-testing';
import { ReadAuditRepository } from '../audit/read-audit.repository';
import { PatientRepository } from '../patients/patient.repository';
import {
  auditRowsFor,
  fullGpClinician,
  fullGpClinicianAuditRow,
  gpClinician,
  startPdsUnderTest,
  whileAuditRefused,
  type PdsUnderTest,
} from '../pds.test-harness';

let schema = '';
const allocate = JSON.parse(
  readFileSync(referencePath('pds-ers', 'pds', 'requests', 'PatientCreate', 'Allocate_NHS_Number.json'), 'utf8'),
) as Record<string, unknown>;

let counter = 0;
function context(requestId = `00000000-0000-4000-9000-${String((counter += 1)).padStart(12, '0')}`): CallContext {
  return gpClinician(requestId);
}

/** The published request with another family name, so that each test has a person of its own. */
function person(family: string, changes: Record<string, unknown> = {}): Record<string, unknown> {
  const names = structuredClone(allocate['name']) as { family: string }[];
  names[0].family = family;
  return { ...structuredClone(allocate), name: names, ...changes };
}

describe('PDS create (allocate an NHS number)', () => {
  let under: PdsUnderTest;
  let app: INestApplication;
  let pds: PdsClient;
  let db: Client;

  beforeAll(async () => {
    under = await startPdsUnderTest({ schemaPrefix: 'pds_new', seed: 'none' });
    ({ app, pds, db, schema } = under);
  });

  afterAll(async () => {
    await under?.stop();
  });

  it('allocates a new valid NHS number to the published example, stores version 1 and queues pds.patient.created.v1', async () => {
    const reply = await pds.createPatient({ patient: allocate }, context());
    expect(isValidNhsNumber(reply.nhsNumber)).toBe(true);
    expect(reply.nhsNumber).toMatch(/^96/);
    expect(reply.versionId).toBe(1);
    const patient = JSON.parse(reply.patientJson) as Patient & { name: { id?: string; family: string }[] };
    expect(patient).toMatchObject({
      resourceType: 'Patient',
      id: reply.nhsNumber,
      meta: { versionId: '1' },
      gender: 'female',
    });
    expect(patient.name[0]?.id).toMatch(/^[0-9A-F]{8}$/);
    const read = await pds.getPatient({ nhsNumber: reply.nhsNumber }, context());
    expect(read.patient.name).toEqual(patient.name);
    const events = await db.query(`SELECT subject FROM "${schema}".outbox WHERE payload->>'nhsNumber' = $1`, [
      reply.nhsNumber,
    ]);
    expect(events.rows).toEqual([{ subject: 'pds.patient.created.v1' }]);
  });

  it('refuses a sandbox request: outside sandbox mode every write is real, and none is half-done', async () => {
    const before = await under.db.query(`SELECT count(*)::int AS n FROM "${under.schema}".patient`);
    const refusal = await rejectionOf(pds.createPatient({ patient: person('Sandboxer'), sandbox: true }, context()));
    expect(refusal.code).toBe('INVALID_VALUE');
    const search = await rejectionOf(
      pds.searchPatients({ query: 'family=Smith&birthdate=eq2010-10-22', sandbox: true }, context()),
    );
    expect(search.code).toBe('INVALID_VALUE');
    const after = await under.db.query(`SELECT count(*)::int AS n FROM "${under.schema}".patient`);
    expect(after.rows).toEqual(before.rows);
  });

  it('allocates once for a retried request, and answers SINGLE_MATCH to a new request for the same person', async () => {
    const retry = context();
    const request = { patient: person('Retryson') };
    const [first, second] = await Promise.all([pds.createPatient(request, retry), pds.createPatient(request, retry)]);
    expect(second).toEqual(first);
    const again = await rejectionOf(pds.createPatient(request, context()));
    expect(again.code).toBe('SINGLE_MATCH');
    expect(again.httpStatus).toBe(200);
    expect(again.diagnostics).toContain(first.nhsNumber);
    const count = await db.query(
      `SELECT count(*)::int AS n FROM "${schema}".patient WHERE resource->'name'->0->>'family' = 'Retryson'`,
    );
    expect(count.rows[0].n).toBe(1);
  });

  it("audits every SINGLE_MATCH that names a person's NHS number (who, which organisation, when, why) before answering", async () => {
    const request = { patient: person('Auditon') };
    const creating = context();
    const created = await pds.createPatient(request, creating);
    const audit = app.get(ReadAuditRepository);
    // The create's own answer showed the new Patient: that is its entry (see the test below).
    const createEntry = {
      at: expect.any(Date),
      nhsNumber: created.nhsNumber,
      action: 'patient.create',
      actorId: 'gp-user',
      actorUsername: 'clinician',
      clientId: undefined,
      organisation: 'A83008',
      roles: ['clinician'],
      requestId: creating.requestId,
      correlationId: undefined,
    };
    expect(await audit.entriesFor(created.nhsNumber)).toEqual([createEntry]);
    const asking = context();
    const before = new Date();
    const match = await rejectionOf(pds.createPatient(request, asking));
    expect(match.code).toBe('SINGLE_MATCH');
    expect(match.diagnostics).toContain(created.nhsNumber);
    // Read without waiting: the entry is committed before the answer leaves PDS.
    const entries = await audit.entriesFor(created.nhsNumber);
    expect(entries).toEqual([
      createEntry,
      {
        at: expect.any(Date),
        nhsNumber: created.nhsNumber,
        action: 'create-match',
        actorId: 'gp-user',
        actorUsername: 'clinician',
        clientId: undefined,
        organisation: 'A83008',
        roles: ['clinician'],
        requestId: asking.requestId,
        correlationId: undefined,
      },
    ]);
    expect(entries[1]?.at.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
    // A retry of that request is answered again from the first outcome: another disclosure, another entry.
    expect((await rejectionOf(pds.createPatient(request, asking))).diagnostics).toContain(created.nhsNumber);
    const afterRetry = await audit.entriesFor(created.nhsNumber);
    expect(afterRetry.map((entry) => [entry.action, entry.requestId])).toEqual([
      ['patient.create', creating.requestId],
      ['create-match', asking.requestId],
      ['create-match', asking.requestId],
    ]);
  });

  // Decision (the PDS spec is silent on a create that matches a restricted person): SINGLE_MATCH, so the caller
  // does not give the person a second number, with the spec's generic text and no NHS number anywhere in the
  // answer, audited as 'create-match-withheld'. The caller can trace the person by search, where Spine's
  // rules for restricted patients apply.
  it('never names a restricted person through a create match: SINGLE_MATCH without the number, audited', async () => {
    const hidden = person('Sensitiver');
    const nhsNumber = '9000000092';
    await app.get(PatientRepository).insertMissing([
      {
        nhsNumber,
        version: 1,
        resource: { ...(hidden as unknown as Patient), id: nhsNumber, meta: { versionId: '1' } },
        restricted: true,
        supersededBy: null,
        invalidated: false,
      },
    ]);
    const asking = context();
    const match = await rejectionOf(pds.createPatient({ patient: hidden }, asking));
    expect(match).toMatchObject({
      code: 'SINGLE_MATCH',
      httpStatus: 200,
      diagnostics: 'Unable to create new patient. A single matching record found for supplied demographic data.',
    });
    expect(JSON.stringify({ ...match, message: match.message })).not.toContain(nhsNumber);
    expect(
      (await app.get(ReadAuditRepository).entriesFor(nhsNumber)).map((entry) => [
        entry.action,
        entry.requestId,
        entry.organisation,
      ]),
    ).toEqual([['create-match-withheld', asking.requestId, 'A83008']]);
    const count = await db.query(
      `SELECT count(*)::int AS n FROM "${schema}".patient WHERE resource->'name'->0->>'family' = 'Sensitiver'`,
    );
    expect(count.rows[0].n).toBe(1);
  });

  it('recognises an existing person whose first given name is compound (Mary-Jane)', async () => {
    const names = structuredClone(allocate['name']) as { family: string; given: string[] }[];
    names[0].family = 'Compoundson';
    names[0].given = ['Mary-Jane'];
    const request = { patient: { ...structuredClone(allocate), name: names } };
    const first = await pds.createPatient(request, context());
    const again = await rejectionOf(pds.createPatient(request, context()));
    expect(again.code).toBe('SINGLE_MATCH');
    expect(again.diagnostics).toContain(first.nhsNumber);
  });

  it('gives two concurrent requests for one new person one number between them', async () => {
    const request = { patient: person('Racewell') };
    const results = await Promise.allSettled([
      pds.createPatient(request, context()),
      pds.createPatient(request, context()),
    ]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect((results.find((result) => result.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({
      code: 'SINGLE_MATCH',
    });
  });

  it('answers MULTIPLE_MATCHES when PDS already holds more than one such person', async () => {
    const twin = person('Twinning');
    const repository = app.get(PatientRepository);
    await repository.insertMissing(
      ['9000000068', '9000000076'].map((nhsNumber) => ({
        nhsNumber,
        version: 1,
        resource: { ...(twin as unknown as Patient), id: nhsNumber, meta: { versionId: '1' } },
        restricted: false,
        supersededBy: null,
        invalidated: false,
      })),
    );
    expect((await rejectionOf(pds.createPatient({ patient: twin }, context()))).code).toBe('MULTIPLE_MATCHES');
  });

  it.each<[string, Record<string, unknown>]>([
    ['no name', person('Nameless', { name: [] })],
    ['no family name', person('X', { name: [{ use: 'usual', given: ['Ann'] }] })],
    ['no birth date', person('Dateless', { birthDate: undefined })],
    ['a birth date in the future', person('Future', { birthDate: '2999-01-01' })],
    ['an unknown gender', person('Gendered', { gender: 'kestrel' })],
    ['an id of its own', person('Chosen', { id: '9000000009' })],
    [
      'an NHS number identifier',
      person('Numbered', { identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' }] }),
    ],
    ['another resource type', person('Other', { resourceType: 'Practitioner' })],
  ])('refuses a patient with %s (INVALID_CREATE) and allocates nothing', async (_name, patient) => {
    const before = await db.query(`SELECT count(*)::int AS n FROM "${schema}".patient`);
    const body = JSON.parse(JSON.stringify(patient)) as Record<string, unknown>;
    expect((await rejectionOf(pds.createPatient({ patient: body }, context()))).code).toBe('INVALID_CREATE');
    const after = await db.query(`SELECT count(*)::int AS n FROM "${schema}".patient`);
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it("audits a create's answer, which shows the new Patient, once as the GET's read is audited; a replay again, a refusal never", async () => {
    const request = { patient: person('Shownson') };
    const write = fullGpClinician();
    const created = await pds.createPatient(request, write);
    expect(JSON.parse(created.patientJson)).toMatchObject({ id: created.nhsNumber });
    const read = fullGpClinician();
    await pds.getPatient({ nhsNumber: created.nhsNumber }, read);
    const [writeRow, readRow, ...more] = await auditRowsFor(under, [write.requestId, read.requestId]);
    expect(more).toEqual([]);
    expect(readRow).toEqual(fullGpClinicianAuditRow(created.nhsNumber, 'patient.read', read.requestId));
    expect(writeRow).toEqual({
      ...readRow,
      action: 'patient.create',
      request_id: write.requestId,
      correlation_id: `corr-${write.requestId}`,
    });
    // A retry of the create is answered the same Patient from its X-Request-ID: another read, another row.
    expect(await pds.createPatient(request, write)).toEqual(created);
    expect((await auditRowsFor(under, [write.requestId])).map((row) => [row['action'], row['nhs_number']])).toEqual([
      ['patient.create', created.nhsNumber],
      ['patient.create', created.nhsNumber],
    ]);
    // A refusal shows no Patient, so it is no read, nor is its retry.
    const refused = fullGpClinician();
    const invalid = { patient: person('Refusedson', { birthDate: '2999-01-01' }) };
    expect((await rejectionOf(pds.createPatient(invalid, refused))).code).toBe('INVALID_CREATE');
    expect((await rejectionOf(pds.createPatient(invalid, refused))).code).toBe('INVALID_CREATE');
    expect(await auditRowsFor(under, [refused.requestId])).toEqual([]);
  });

  it('answers no new Patient whose audit could not be committed; the retry is answered and audited', async () => {
    const request = { patient: person('Unauditon') };
    const call = context();
    const refused = await whileAuditRefused(under, () => rejectionOf(pds.createPatient(request, call)));
    expect(refused.code).toBe('REC_SERVER_ERROR');
    const refusedJson = JSON.stringify({ ...refused, message: refused.message });
    // The patient was created (once); the retry is answered the number and the Patient, with its audit row.
    const retried = await pds.createPatient(request, call);
    expect(refusedJson).not.toContain(retried.nhsNumber);
    expect(refusedJson).not.toMatch(/Unauditon|resourceType/);
    expect(JSON.parse(retried.patientJson)).toMatchObject({ id: retried.nhsNumber, meta: { versionId: '1' } });
    expect(await auditRowsFor(under, [call.requestId])).toEqual([
      expect.objectContaining({ nhs_number: retried.nhsNumber, action: 'patient.create' }),
    ]);
    const count = await db.query(
      `SELECT count(*)::int AS n FROM "${schema}".patient WHERE resource->'name'->0->>'family' = 'Unauditon'`,
    );
    expect(count.rows[0].n).toBe(1);
  });
});
