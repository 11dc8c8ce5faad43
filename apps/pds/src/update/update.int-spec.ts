import 'reflect-metadata';
import { readdirSync, readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import { JSONCodec, type NatsConnection } from 'nats';
import { type Client } from 'pg';
import {
  PDS_EVENT_STREAM,
  PDS_EVENTS,
  type PdsClient,
  type Patient,
  type PatchOperation,
  type PatientDeceasedEvent,
  type PatientRegisteredEvent,
  type PatientUpdatedEvent,
} from '@platform/contracts-pds';
import { generateNhsNumber, seededRandom } from '@platform/shared-identifiers';
import type { CallContext } from '@platform/shared-nats';
import { allAtOnce, outcomes as settled, referencePath, rejectionOf, tally } from '@platform/shared-testing';
import { Housekeeping } from '@platform/shared-persistence';
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
const random = seededRandom(4242);
const janeSmith = JSON.parse(
  readFileSync(referencePath('pds-ers', 'pds', 'responses', 'Patient_9000000009.json'), 'utf8'),
) as Patient;
const patchDir = referencePath('pds-ers', 'pds', 'requests', 'PatientPatch');
const published = (file: string): PatchOperation[] =>
  (JSON.parse(readFileSync(`${patchDir}/${file}`, 'utf8')) as { patches: PatchOperation[] }).patches;

let requestCounter = 0;
function context(
  requestId = `00000000-0000-4000-8000-${String((requestCounter += 1)).padStart(12, '0')}`,
): CallContext {
  return gpClinician(requestId);
}

describe('PDS update (JSON Patch) against PostgreSQL and JetStream', () => {
  let under: PdsUnderTest;
  let app: INestApplication;
  let connection: NatsConnection;
  let pds: PdsClient;
  let db: Client;

  /** A fresh copy of the sandbox's Jane Smith under a new NHS number, at version 2. */
  async function freshPatient(changes: Partial<Patient> = {}): Promise<string> {
    let nhsNumber = generateNhsNumber(random, '9');
    while (nhsNumber.startsWith('90000000')) nhsNumber = generateNhsNumber(random, '9');
    await db.query(`INSERT INTO "${schema}".patient (nhs_number, version, resource) VALUES ($1, 2, $2)`, [
      nhsNumber,
      JSON.stringify({ ...janeSmith, ...changes, id: nhsNumber }),
    ]);
    return nhsNumber;
  }

  /** The last event on `subject` about this patient, once the outbox relay has published it. */
  async function lastEvent<T extends { nhsNumber: string }>(
    subject: string,
    nhsNumber: string,
  ): Promise<T | undefined> {
    const manager = await connection.jetstreamManager();
    for (let attempt = 0; attempt < 50; attempt += 1) {
      try {
        const message = await manager.streams.getMessage(PDS_EVENT_STREAM, { last_by_subj: subject });
        const decoded = JSONCodec<T>().decode(message.data);
        if (decoded.nhsNumber === nhsNumber) return decoded;
      } catch {
        // not published yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return undefined;
  }

  const stored = async (nhsNumber: string): Promise<{ version: number; resource: Patient }> =>
    (
      await db.query<{ version: number; resource: Patient }>(
        `SELECT version, resource FROM "${schema}".patient WHERE nhs_number = $1`,
        [nhsNumber],
      )
    ).rows[0];

  beforeAll(async () => {
    under = await startPdsUnderTest({ schemaPrefix: 'pds_upd', seed: 'sandbox' });
    ({ app, connection, pds, db, schema } = under);
  });

  afterAll(async () => {
    await under?.stop();
  });

  it('applies a patch, answers the next version and publishes pds.patient.updated.v1 through the outbox', async () => {
    const nhsNumber = await freshPatient();
    const reply = await pds.updatePatient(
      { nhsNumber, ifMatch: 'W/"2"', patches: published('update-gender.json') },
      context(),
    );
    expect(reply.versionId).toBe(3);
    expect(JSON.parse(reply.json)).toMatchObject({ id: nhsNumber, gender: 'male', meta: { versionId: '3' } });
    expect(await stored(nhsNumber)).toMatchObject({
      version: 3,
      resource: { gender: 'male', meta: { versionId: '3' } },
    });
    const event = await lastEvent<PatientUpdatedEvent>(PDS_EVENTS.patientUpdated, nhsNumber);
    expect(event).toMatchObject({ nhsNumber, versionId: 3, changed: ['gender'] });
    expect(JSON.stringify(event)).not.toContain('male');
  });

  it('publishes pds.patient.deceased.v1 when a death is notified and pds.patient.registered.v1 when the practice changes', async () => {
    const nhsNumber = await freshPatient({ deceasedDateTime: undefined });
    const death = await pds.updatePatient(
      { nhsNumber, ifMatch: 'W/"2"', patches: published('add-deceased-date-time.json') },
      context(),
    );
    expect(death.versionId).toBe(3);
    expect(await lastEvent<PatientDeceasedEvent>(PDS_EVENTS.patientDeceased, nhsNumber)).toMatchObject({
      nhsNumber,
      versionId: 3,
    });

    const [practice] = janeSmith['generalPractitioner'] as { id: string }[];
    const moved = await pds.updatePatient(
      {
        nhsNumber,
        ifMatch: 'W/"3"',
        patches: [
          {
            op: 'replace',
            path: '/generalPractitioner/0',
            value: {
              id: practice?.id,
              type: 'Organization',
              identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A83008' },
            },
          },
        ],
      },
      context(),
    );
    expect(moved.versionId).toBe(4);
    const registered = await lastEvent<PatientRegisteredEvent>(PDS_EVENTS.patientRegistered, nhsNumber);
    expect(registered).toMatchObject({ nhsNumber, versionId: 4, practice: 'A83008', previousPractice: 'Y12345' });
    // The practice change is no second death.
    expect((await lastEvent<PatientDeceasedEvent>(PDS_EVENTS.patientDeceased, nhsNumber))?.versionId).toBe(3);
  });

  it('needs If-Match (412) and the current version (409), changing nothing otherwise', async () => {
    const nhsNumber = await freshPatient();
    const patches = published('update-gender.json');
    expect((await rejectionOf(pds.updatePatient({ nhsNumber, patches }, context()))).code).toBe('PRECONDITION_FAILED');
    expect((await rejectionOf(pds.updatePatient({ nhsNumber, ifMatch: '2', patches }, context()))).code).toBe(
      'PRECONDITION_FAILED',
    );
    const stale = await rejectionOf(pds.updatePatient({ nhsNumber, ifMatch: 'W/"1"', patches }, context()));
    expect(stale.code).toBe('RESOURCE_VERSION_MISMATCH');
    expect(stale.httpStatus).toBe(409);
    expect((await stored(nhsNumber)).version).toBe(2);
  });

  const outcomes: Record<string, string> = {
    'add-deceased-date-time.json': 'ok',
    'add-extension.json': 'ok',
    'add-name.json': 'ok',
    'delete-extension.json': 'ok',
    'delete-gender.json': 'INVALID_UPDATE',
    // Its test op carries a name period (2020-2021) that the sandbox record no longer has (2024-2025).
    'delete-name-alternative.json': 'INVALID_UPDATE',
    'delete-name.json': 'ok',
    'update-address-alternative.json': 'ok',
    'update-address.json': 'ok',
    'update-extension.json': 'ok',
    'update-gender.json': 'ok',
  };

  it('knows every published PatientPatch example', () => {
    expect(readdirSync(patchDir).sort()).toEqual(Object.keys(outcomes).sort());
  });

  it.each(Object.entries(outcomes))('applies the published %s with outcome %s', async (file, outcome) => {
    const nhsNumber = await freshPatient();
    const call = pds.updatePatient({ nhsNumber, ifMatch: 'W/"2"', patches: published(file) }, context());
    if (outcome === 'ok') {
      expect((await call).versionId).toBe(3);
    } else {
      expect((await rejectionOf(call)).code).toBe(outcome);
      expect((await stored(nhsNumber)).version).toBe(2);
    }
  });

  it('keeps search in step: a name added by a patch is found, within the same transaction as the change', async () => {
    const nhsNumber = await freshPatient();
    await pds.updatePatient({ nhsNumber, ifMatch: 'W/"2"', patches: published('add-name.json') }, context());
    const found = await pds.searchPatients({ query: 'family=Bloggs&birthdate=eq2010-10-22&_history=true' }, context());
    expect(found.matches.map((match) => match.patient.id)).toContain(nhsNumber);
  });

  it('gives a new name an id, as PDS does', async () => {
    const nhsNumber = await freshPatient();
    const reply = await pds.updatePatient(
      { nhsNumber, ifMatch: 'W/"2"', patches: published('add-name.json') },
      context(),
    );
    const names = (JSON.parse(reply.json) as { name: { id?: string; family: string }[] }).name;
    expect(names.find((name) => name.family === 'Bloggs')?.id).toMatch(/^[0-9A-F]{8}$/);
  });

  it.each<[string, PatchOperation[], string]>([
    ['a list item inserted by index', [{ op: 'add', path: '/name/0', value: { family: 'X' } }], 'INVALID_UPDATE'],
    [
      'a list item changed without its id',
      [{ op: 'replace', path: '/name/0/family', value: 'Jones' }],
      'INVALID_UPDATE',
    ],
    [
      'a list item identified by the wrong id',
      [{ op: 'replace', path: '/address/0/id', value: '999' }],
      'INVALID_UPDATE',
    ],
    [
      'a list item removed without a test',
      [
        { op: 'test', path: '/address/0/id', value: '456' },
        { op: 'remove', path: '/address/1' },
      ],
      'INVALID_UPDATE',
    ],
    ['a move', [{ op: 'move', from: '/gender', path: '/birthDate' }], 'INVALID_UPDATE'],
    ['the NHS number', [{ op: 'replace', path: '/id', value: '9000000017' }], 'FORBIDDEN_UPDATE'],
    ['the identifiers', [{ op: 'remove', path: '/identifier/0' }], 'FORBIDDEN_UPDATE'],
    ['a birth date in the future', [{ op: 'replace', path: '/birthDate', value: '2999-01-01' }], 'INVALID_UPDATE'],
    [
      'a death before birth',
      [{ op: 'replace', path: '/deceasedDateTime', value: '2000-01-01T00:00:00+00:00' }],
      'INVALID_UPDATE',
    ],
    [
      'a second current usual name',
      [
        { op: 'add', path: '/name/-', value: { use: 'usual', family: 'Doe' } },
        { op: 'add', path: '/name/-', value: { use: 'usual', family: 'Roe' } },
      ],
      'INVALID_UPDATE',
    ],
    ['a path that is not there', [{ op: 'replace', path: '/maritalStatus/coding/0', value: {} }], 'INVALID_UPDATE'],
    [
      'a failing test',
      [
        { op: 'test', path: '/gender', value: 'male' },
        { op: 'replace', path: '/gender', value: 'other' },
      ],
      'INVALID_UPDATE',
    ],
    [
      'a good change followed by a bad one',
      [
        { op: 'replace', path: '/gender', value: 'male' },
        { op: 'remove', path: '/gender' },
      ],
      'INVALID_UPDATE',
    ],
  ])('refuses %s and changes nothing', async (_name, patches, code) => {
    const nhsNumber = await freshPatient();
    const before = await stored(nhsNumber);
    expect((await rejectionOf(pds.updatePatient({ nhsNumber, ifMatch: 'W/"2"', patches }, context()))).code).toBe(code);
    expect(await stored(nhsNumber)).toEqual(before);
  });

  it('refuses a patch to /__proto__ naming the path, not a JavaScript error, and changes nothing', async () => {
    const nhsNumber = await freshPatient();
    const before = await stored(nhsNumber);
    const patches: PatchOperation[] = [{ op: 'add', path: '/__proto__/polluted', value: true }];
    const refused = await rejectionOf(pds.updatePatient({ nhsNumber, ifMatch: 'W/"2"', patches }, context()));
    expect(refused.code).toBe('INVALID_UPDATE');
    expect(refused.diagnostics).toBe(
      "Invalid update with error - patch 0 (add /__proto__/polluted): '__proto__' is not an element of a Patient",
    );
    expect(await stored(nhsNumber)).toEqual(before);
  });

  it('applies a request once however often, and however concurrently, it is retried', async () => {
    const nhsNumber = await freshPatient();
    const retry = context();
    const request = { nhsNumber, ifMatch: 'W/"2"', patches: published('add-name.json') };
    const replies = await Promise.all(Array.from({ length: 6 }, () => pds.updatePatient(request, retry)));
    expect(new Set(replies.map((reply) => reply.json)).size).toBe(1);
    expect(replies.every((reply) => reply.versionId === 3)).toBe(true);
    expect((await stored(nhsNumber)).version).toBe(3);
    const names = (await stored(nhsNumber)).resource['name'] as unknown[];
    expect(names).toHaveLength(2);
    const events = await db.query(
      `SELECT count(*)::int AS n FROM "${schema}".outbox WHERE payload->>'nhsNumber' = $1`,
      [nhsNumber],
    );
    expect(events.rows[0].n).toBe(1);
  });

  it('answers a retried failure with the first failure, and refuses a reused ID for another request', async () => {
    const nhsNumber = await freshPatient();
    const retry = context();
    const stale = { nhsNumber, ifMatch: 'W/"1"', patches: published('update-gender.json') };
    expect((await rejectionOf(pds.updatePatient(stale, retry))).code).toBe('RESOURCE_VERSION_MISMATCH');
    expect((await rejectionOf(pds.updatePatient(stale, retry))).code).toBe('RESOURCE_VERSION_MISMATCH');
    const other = { nhsNumber, ifMatch: 'W/"2"', patches: published('update-gender.json') };
    expect((await rejectionOf(pds.updatePatient(other, retry))).code).toBe('INVALID_VALUE');
    expect((await stored(nhsNumber)).version).toBe(2);
  });

  it('lets only one of two concurrent writers of the same version win', async () => {
    const nhsNumber = await freshPatient();
    const results = await Promise.allSettled([
      pds.updatePatient(
        { nhsNumber, ifMatch: 'W/"2"', patches: [{ op: 'replace', path: '/gender', value: 'male' }] },
        context(),
      ),
      pds.updatePatient(
        { nhsNumber, ifMatch: 'W/"2"', patches: [{ op: 'replace', path: '/gender', value: 'other' }] },
        context(),
      ),
    ]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const loser = results.find((result) => result.status === 'rejected');
    expect((loser as PromiseRejectedResult).reason).toMatchObject({ code: 'RESOURCE_VERSION_MISMATCH' });
    expect((await stored(nhsNumber)).version).toBe(3);
  });

  it('refuses bad, unknown and superseded numbers', async () => {
    const patches = published('update-gender.json');
    expect(
      (await rejectionOf(pds.updatePatient({ nhsNumber: '9000000000', ifMatch: 'W/"2"', patches }, context()))).code,
    ).toBe('INVALID_RESOURCE_ID');
    expect(
      (await rejectionOf(pds.updatePatient({ nhsNumber: '9111231130', ifMatch: 'W/"2"', patches }, context()))).code,
    ).toBe('RESOURCE_NOT_FOUND');
    const survivor = await freshPatient();
    await db.query(
      `INSERT INTO "${schema}".patient (nhs_number, version, resource, superseded_by) VALUES ('9000000092', 2, $1, $2)`,
      [JSON.stringify({ ...janeSmith, id: '9000000092' }), survivor],
    );
    expect(
      (await rejectionOf(pds.updatePatient({ nhsNumber: '9000000092', ifMatch: 'W/"2"', patches }, context()))).code,
    ).toBe('INVALID_UPDATE');
  });

  it('forgets write answers and published events past their retention', async () => {
    await db.query(
      `INSERT INTO "${schema}".idempotent_request (caller_id, request_id, operation, request_hash, outcome, created_at)
       VALUES ('old-caller', 'old-request', 'patient.update', 'x', '{}', now() - interval '100 hours')`,
    );
    await db.query(
      `INSERT INTO "${schema}".outbox (subject, payload, published_at) VALUES ('pds.patient.updated.v1', '{}', now() - interval '200 hours')`,
    );
    const removed = await app.get(Housekeeping).run();
    expect(removed).toEqual({ answers: 1, events: 1 });
    const recent = await db.query(`SELECT count(*)::int AS n FROM "${schema}".idempotent_request`);
    expect(recent.rows[0].n).toBeGreaterThan(0);
  });

  it('answers a restricted patient redacted after an update', async () => {
    const reply = await pds.updatePatient(
      { nhsNumber: '9000000025', ifMatch: 'W/"2"', patches: [{ op: 'replace', path: '/gender', value: 'female' }] },
      context(),
    );
    const patient = JSON.parse(reply.json) as Patient;
    expect(patient['address']).toBeUndefined();
    expect(patient.meta.security?.[0]?.code).toBe('R');
  });

  it("audits a PATCH's answer, which shows the Patient, as the GET's read is audited: one row, the same fields", async () => {
    const nhsNumber = await freshPatient();
    const read = fullGpClinician();
    await pds.getPatient({ nhsNumber }, read);
    const write = fullGpClinician();
    const reply = await pds.updatePatient(
      { nhsNumber, ifMatch: 'W/"2"', patches: published('update-gender.json') },
      write,
    );
    expect(JSON.parse(reply.json)).toMatchObject({ id: nhsNumber, gender: 'male' });
    const [readRow, writeRow, ...more] = await auditRowsFor(under, [read.requestId, write.requestId]);
    expect(more).toEqual([]);
    expect(readRow).toEqual(fullGpClinicianAuditRow(nhsNumber, 'patient.read', read.requestId));
    expect(writeRow).toEqual({
      ...readRow,
      action: 'patient.update',
      request_id: write.requestId,
      correlation_id: `corr-${write.requestId}`,
    });
    // A refusal shows no Patient, so it is no read.
    const refused = fullGpClinician();
    const refusal = await rejectionOf(
      pds.updatePatient({ nhsNumber, ifMatch: 'W/"2"', patches: published('update-gender.json') }, refused),
    );
    expect(refusal.code).toBe('RESOURCE_VERSION_MISMATCH');
    expect(await auditRowsFor(under, [refused.requestId])).toEqual([]);
  });

  it('audits only the winner of 30 simultaneous PATCHes of one version, refusals never, and each of 30 replays of the winner', async () => {
    const nhsNumber = await freshPatient();
    const requestIds = Array.from({ length: 30 }, () => context().requestId);
    const request = { nhsNumber, ifMatch: 'W/"2"', patches: published('update-gender.json') };
    const results = settled(await allAtOnce(30, 20_000, (i) => pds.updatePatient(request, context(requestIds[i]))));
    expect(tally(results, (result) => (typeof result === 'string' ? result : 'written'))).toEqual({
      written: 1,
      RESOURCE_VERSION_MISMATCH: 29,
    });
    const winnerIndex = results.findIndex((result) => typeof result !== 'string');
    const winnerId = requestIds[winnerIndex] ?? '';
    expect((await auditRowsFor(under, requestIds)).map((row) => [row['request_id'], row['action']])).toEqual([
      [winnerId, 'patient.update'],
    ]);
    // A loser's retry is answered its conflict again: still nothing shown, still no row.
    const loserId = requestIds[winnerIndex === 0 ? 1 : 0] ?? '';
    expect((await rejectionOf(pds.updatePatient(request, context(loserId)))).code).toBe('RESOURCE_VERSION_MISMATCH');
    // Retries of the winner's X-Request-ID are answered the Patient again: each answer is a read of it.
    const replays = await allAtOnce(30, 20_000, () => pds.updatePatient(request, context(winnerId)));
    expect(tally(replays, (replay) => replay.status)).toEqual({ fulfilled: 30 });
    expect(await auditRowsFor(under, requestIds)).toEqual(
      Array.from({ length: 31 }, (): unknown =>
        expect.objectContaining({ request_id: winnerId, nhs_number: nhsNumber, action: 'patient.update' }),
      ),
    );
    expect((await stored(nhsNumber)).version).toBe(3);
  });

  it('answers no Patient whose audit could not be committed; the retry is answered and audited', async () => {
    const nhsNumber = await freshPatient();
    const call = context();
    const update = (): Promise<{ json: string; versionId: number }> =>
      pds.updatePatient({ nhsNumber, ifMatch: 'W/"2"', patches: published('add-name.json') }, call);
    const refused = await whileAuditRefused(under, () => rejectionOf(update()));
    expect(refused.code).toBe('REC_SERVER_ERROR');
    expect(JSON.stringify({ ...refused, message: refused.message })).not.toMatch(/Bloggs|Horation|resourceType/);
    // The update itself was kept (once); its answer is given to the retry, with its audit row.
    const retried = await update();
    expect(retried.versionId).toBe(3);
    expect(JSON.parse(retried.json)).toMatchObject({ id: nhsNumber, meta: { versionId: '3' } });
    expect(retried.json).toContain('Bloggs');
    expect(await auditRowsFor(under, [call.requestId])).toEqual([
      expect.objectContaining({ nhs_number: nhsNumber, action: 'patient.update' }),
    ]);
    expect((await stored(nhsNumber)).version).toBe(3);
    const events = await db.query(
      `SELECT count(*)::int AS n FROM "${schema}".outbox WHERE payload->>'nhsNumber' = $1`,
      [nhsNumber],
    );
    expect(events.rows[0].n).toBe(1);
  });
});
