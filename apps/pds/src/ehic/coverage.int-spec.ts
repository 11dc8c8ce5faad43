import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { JSONCodec, type NatsConnection } from 'nats';
import { type Client } from 'pg';
import {
  PDS_EVENT_STREAM,
  PDS_EVENTS,
  type Coverage,
  type PdsClient,
  type Patient,
  type PatientUpdatedEvent,
} from '@platform/contracts-pds';
import { generateNhsNumber, seededRandom } from '@platform/shared-identifiers';
import type { CallContext } from '@platform/shared-nats';
import { allAtOnce, outcomes, referencePath, rejectionOf, tally } from '@platform/shared-testing';
import {
  auditRowsFor,
  gpClinician,
  startPdsUnderTest,
  whileAuditRefused,
  type PdsUnderTest,
} from '../pds.test-harness';

const random = seededRandom(7171);
const example = JSON.parse(
  readFileSync(referencePath('pds-ers', 'pds', 'spec', 'components', 'examples', 'Coverage.json'), 'utf8'),
) as Coverage & Record<string, unknown>;
const janeSmith = JSON.parse(
  readFileSync(referencePath('pds-ers', 'pds', 'responses', 'Patient_9000000009.json'), 'utf8'),
) as Patient;

let counter = 0;
const nextRequestId = (): string => `00000000-0000-4000-a000-${String((counter += 1)).padStart(12, '0')}`;
const clinician = (requestId = nextRequestId()): CallContext => gpClinician(requestId);
/** Patient access (NHS login): the only access mode EHIC details are for. */
function patient(nhsNumber: string, requestId = nextRequestId()): CallContext {
  return {
    requestId,
    caller: { id: `nhs-login-${nhsNumber}`, roles: ['patient'], nhsNumber, accessMode: 'user-restricted' },
  };
}

/** The published example card, for another patient. */
function cardFor(nhsNumber: string, changes: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...example,
    subscriber: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumber } },
    ...changes,
  };
}

describe('PDS Coverage (EHIC) against PostgreSQL and JetStream', () => {
  let under: PdsUnderTest;
  let pds: PdsClient;
  let db: Client;
  let connection: NatsConnection;
  let schema = '';

  async function freshPatient(restricted = false): Promise<string> {
    let nhsNumber = generateNhsNumber(random, '9');
    while (nhsNumber.startsWith('90000000')) nhsNumber = generateNhsNumber(random, '9');
    await db.query(
      `INSERT INTO "${schema}".patient (nhs_number, version, resource, restricted) VALUES ($1, 2, $2, $3)`,
      [nhsNumber, JSON.stringify({ ...janeSmith, id: nhsNumber }), restricted],
    );
    return nhsNumber;
  }

  /** What a write could change: the version, the card, the events about this patient. */
  async function state(nhsNumber: string): Promise<unknown> {
    const { rows } = await db.query(
      `SELECT (SELECT version FROM "${schema}".patient WHERE nhs_number = $1) AS version,
              (SELECT resource FROM "${schema}".patient_coverage WHERE nhs_number = $1) AS coverage,
              (SELECT count(*)::int FROM "${schema}".outbox WHERE payload::text LIKE '%' || $1 || '%') AS events`,
      [nhsNumber],
    );
    return rows[0];
  }

  beforeAll(async () => {
    under = await startPdsUnderTest({ schemaPrefix: 'pds_cov', seed: 'none' });
    ({ pds, db, schema, connection } = under);
  });

  afterAll(async () => {
    await under?.stop();
  });

  it('stores a card with the patient: the next version, an audited read that shows it, and pds.patient.updated.v1', async () => {
    const nhsNumber = await freshPatient();
    const none = await pds.getCoverage({ query: `subscriber:identifier=${nhsNumber}` }, patient(nhsNumber));
    expect(none).toEqual({ nhsNumber, versionId: 2 });
    const written = await pds.updateCoverage({ coverage: cardFor(nhsNumber), ifMatch: 'W/"2"' }, patient(nhsNumber));
    expect(written).toMatchObject({ nhsNumber, versionId: 3, coverage: cardFor(nhsNumber) });
    const readId = nextRequestId();
    const read = await pds.getCoverage({ query: `subscriber:identifier=${nhsNumber}` }, patient(nhsNumber, readId));
    expect(read).toEqual({ nhsNumber, versionId: 3, coverage: cardFor(nhsNumber) });
    // Versioned with the patient: the record's own version moved too.
    expect((await pds.getPatient({ nhsNumber }, clinician())).versionId).toBe(3);
    const audit = await db.query(`SELECT nhs_number, action FROM "${schema}".read_audit WHERE request_id = $1`, [
      readId,
    ]);
    expect(audit.rows).toEqual([{ nhs_number: nhsNumber, action: 'patient.coverage.read' }]);
    const manager = await connection.jetstreamManager();
    let event: PatientUpdatedEvent | undefined;
    for (let attempt = 0; attempt < 50 && event?.nhsNumber !== nhsNumber; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const message = await manager.streams
        .getMessage(PDS_EVENT_STREAM, { last_by_subj: PDS_EVENTS.patientUpdated })
        .catch(() => undefined);
      event = message ? JSONCodec<PatientUpdatedEvent>().decode(message.data) : undefined;
    }
    expect(event).toMatchObject({ nhsNumber, versionId: 3, changed: ['coverage'] });
    // Events name what changed, never the card.
    expect(JSON.stringify(event)).not.toContain('29401395498043123948');
  });

  it('replaces the card on the next write, with that version', async () => {
    const nhsNumber = await freshPatient();
    await pds.updateCoverage({ coverage: cardFor(nhsNumber), ifMatch: 'W/"2"' }, patient(nhsNumber));
    const renewed = cardFor(nhsNumber, { period: { end: '2031-06-30' } });
    await pds.updateCoverage({ coverage: renewed, ifMatch: 'W/"3"' }, patient(nhsNumber));
    expect(await pds.getCoverage({ query: `subscriber:identifier=${nhsNumber}` }, patient(nhsNumber))).toEqual({
      nhsNumber,
      versionId: 4,
      coverage: renewed,
    });
  });

  const withoutCardNumber = { ...example.identifier[0], value: undefined };
  it.each<[string, (nhsNumber: string) => Record<string, unknown>, string | undefined, string]>([
    ['a missing EHIC card number', (n) => cardFor(n, { identifier: [withoutCardNumber] }), 'W/"2"', 'MISSING_VALUE'],
    ['an invalid status', (n) => cardFor(n, { status: 'cancelled' }), 'W/"2"', 'INVALID_VALUE'],
    ['no status', (n) => cardFor(n, { status: undefined }), 'W/"2"', 'MISSING_VALUE'],
    ['a wrong If-Match', (n) => cardFor(n), 'W/"1"', 'RESOURCE_VERSION_MISMATCH'],
    ['no If-Match', (n) => cardFor(n), undefined, 'PRECONDITION_FAILED'],
    ['a malformed If-Match', (n) => cardFor(n), '2', 'PRECONDITION_FAILED'],
    ['a bad NHS number', () => cardFor('9000000000'), 'W/"2"', 'INVALID_RESOURCE_ID'],
    ['no subscriber', (n) => ({ ...cardFor(n), subscriber: undefined }), 'W/"2"', 'MISSING_VALUE'],
    [
      'two cards',
      (n) => cardFor(n, { identifier: [example.identifier[0], example.identifier[0]] }),
      'W/"2"',
      'TOO_MANY_VALUES_SUBMITTED',
    ],
    ['no card', (n) => cardFor(n, { identifier: [] }), 'W/"2"', 'TOO_FEW_VALUES_SUBMITTED'],
    [
      'a card number of 26 characters',
      (n) => cardFor(n, { identifier: [{ ...example.identifier[0], value: 'A'.repeat(26) }] }),
      'W/"2"',
      'INVALID_VALUE',
    ],
    [
      'a country that is not ISO alpha-3',
      (n) =>
        cardFor(n, {
          identifier: [
            { ...example.identifier[0], assigner: { identifier: { system: 'urn:iso:std:iso:3166', value: 'France' } } },
          ],
        }),
      'W/"2"',
      'INVALID_VALUE',
    ],
    ['no institution', (n) => cardFor(n, { payor: [] }), 'W/"2"', 'TOO_FEW_VALUES_SUBMITTED'],
    ['no personal ID', (n) => cardFor(n, { beneficiary: { identifier: {} } }), 'W/"2"', 'MISSING_VALUE'],
    ['an expiry 200 years away', (n) => cardFor(n, { period: { end: '2226-01-01' } }), 'W/"2"', 'INVALID_VALUE'],
    ['an expiry that is not a date', (n) => cardFor(n, { period: { end: '2030-02-30' } }), 'W/"2"', 'INVALID_VALUE'],
    ['a field Coverage does not have', (n) => cardFor(n, { pets: ['cat'] }), 'W/"2"', 'INVALID_VALUE'],
    ['another resource type', (n) => cardFor(n, { resourceType: 'Patient' }), 'W/"2"', 'INVALID_VALUE'],
  ])('refuses %s (%#) with a 4xx and the right code, and changes nothing', async (_name, body, ifMatch, code) => {
    const nhsNumber = await freshPatient();
    const before = await state(nhsNumber);
    const refusal = await rejectionOf(
      pds.updateCoverage({ coverage: body(nhsNumber), ...(ifMatch ? { ifMatch } : {}) }, patient(nhsNumber)),
    );
    expect(refusal.code).toBe(code);
    expect(refusal.httpStatus).toBeGreaterThanOrEqual(400);
    expect(refusal.httpStatus).toBeLessThan(500);
    expect(await state(nhsNumber)).toEqual(before);
  });

  it('refuses a body that is not an object (INVALID_UPDATE), and an unknown patient (RESOURCE_NOT_FOUND)', async () => {
    const malformed = await rejectionOf(
      pds.updateCoverage(
        { coverage: 'not a card' as unknown as Record<string, unknown>, ifMatch: 'W/"2"' },
        patient('9111231130'),
      ),
    );
    expect(malformed.code).toBe('INVALID_UPDATE');
    const unknown = await rejectionOf(
      pds.updateCoverage({ coverage: cardFor('9111231130'), ifMatch: 'W/"2"' }, patient('9111231130')),
    );
    expect(unknown.code).toBe('RESOURCE_NOT_FOUND');
  });

  it.each([
    ['nothing', '', 'MISSING_VALUE'],
    ['another parameter too', 'subscriber:identifier=9000000009&year=2003', 'INVALID_SEARCH_DATA'],
    ['a misspelt parameter', 'subscriber=9000000009', 'INVALID_SEARCH_DATA'],
    ['a bad NHS number', 'subscriber:identifier=9000000000', 'INVALID_RESOURCE_ID'],
    ['an unknown patient', 'subscriber:identifier=9111231130', 'RESOURCE_NOT_FOUND'],
  ])('answers a search for %s (%#) with its code', async (_name, query, code) => {
    expect((await rejectionOf(pds.getCoverage({ query }, patient('9111231130')))).code).toBe(code);
  });

  it('applies 50 simultaneous writes of one version once: one answer, 49 RESOURCE_VERSION_MISMATCH, one event', async () => {
    const nhsNumber = await freshPatient();
    const cards = Array.from({ length: 50 }, (_, i) =>
      cardFor(nhsNumber, { beneficiary: { identifier: { value: `PERSON-${i}` } } }),
    );
    const results = outcomes(
      await allAtOnce(50, 20_000, (i) =>
        pds.updateCoverage({ coverage: cards[i] ?? {}, ifMatch: 'W/"2"' }, patient(nhsNumber)),
      ),
    );
    expect(tally(results, (result) => (typeof result === 'string' ? result : 'written'))).toEqual({
      written: 1,
      RESOURCE_VERSION_MISMATCH: 49,
    });
    const winner = results.find((result) => typeof result !== 'string') as { coverage: Coverage };
    expect(await state(nhsNumber)).toEqual({ version: 3, coverage: winner.coverage, events: 1 });
  });

  it('applies a retried write once: the same X-Request-ID gets the first answer', async () => {
    const nhsNumber = await freshPatient();
    const requestId = nextRequestId();
    const first = await pds.updateCoverage(
      { coverage: cardFor(nhsNumber), ifMatch: 'W/"2"' },
      patient(nhsNumber, requestId),
    );
    const retries = await allAtOnce(10, 20_000, () =>
      pds.updateCoverage({ coverage: cardFor(nhsNumber), ifMatch: 'W/"2"' }, patient(nhsNumber, requestId)),
    );
    for (const retry of retries) expect(retry).toEqual({ status: 'fulfilled', value: first });
    expect(await state(nhsNumber)).toEqual({ version: 3, coverage: first.coverage, events: 1 });
  });

  /** A patient whose statement carries every field an audit row records. */
  function fullPatient(nhsNumber: string, requestId = nextRequestId()): CallContext {
    return {
      requestId,
      correlationId: `corr-${requestId}`,
      caller: {
        id: `nhs-login-${nhsNumber}`,
        username: `patient-${nhsNumber}`,
        clientId: 'nhs-app',
        roles: ['patient'],
        organisation: 'X26',
        nhsNumber,
        accessMode: 'user-restricted',
      },
    };
  }

  it("audits a POST's answer, which shows the card, as the GET's read is audited: one row, the same fields", async () => {
    const nhsNumber = await freshPatient();
    const query = `subscriber:identifier=${nhsNumber}`;
    const readId = nextRequestId();
    await pds.getCoverage({ query }, fullPatient(nhsNumber, readId));
    const writeId = nextRequestId();
    const written = await pds.updateCoverage(
      { coverage: cardFor(nhsNumber), ifMatch: 'W/"2"' },
      fullPatient(nhsNumber, writeId),
    );
    expect(written.coverage).toEqual(cardFor(nhsNumber));
    const [read, write, ...more] = await auditRowsFor(under, [readId, writeId]);
    expect(more).toEqual([]);
    expect(read).toEqual({
      nhs_number: nhsNumber,
      action: 'patient.coverage.read',
      actor_id: `nhs-login-${nhsNumber}`,
      actor_username: `patient-${nhsNumber}`,
      client_id: 'nhs-app',
      organisation: 'X26',
      roles: ['patient'],
      request_id: readId,
      correlation_id: `corr-${readId}`,
    });
    expect(write).toEqual({
      ...read,
      action: 'patient.coverage.update',
      request_id: writeId,
      correlation_id: `corr-${writeId}`,
    });
    // A refusal shows no card, so it is no read.
    const refusedId = nextRequestId();
    const refused = await rejectionOf(
      pds.updateCoverage({ coverage: cardFor(nhsNumber), ifMatch: 'W/"2"' }, fullPatient(nhsNumber, refusedId)),
    );
    expect(refused.code).toBe('RESOURCE_VERSION_MISMATCH');
    expect(await auditRowsFor(under, [refusedId])).toEqual([]);
  });

  it('audits each answer of 30 simultaneous POSTs of one Coverage exactly once, refusals never, and each of 30 replays of the winner', async () => {
    const nhsNumber = await freshPatient();
    const requestIds = Array.from({ length: 30 }, () => nextRequestId());
    const results = outcomes(
      await allAtOnce(30, 20_000, (i) =>
        pds.updateCoverage({ coverage: cardFor(nhsNumber), ifMatch: 'W/"2"' }, patient(nhsNumber, requestIds[i])),
      ),
    );
    expect(tally(results, (result) => (typeof result === 'string' ? result : 'written'))).toEqual({
      written: 1,
      RESOURCE_VERSION_MISMATCH: 29,
    });
    const winnerId = requestIds[results.findIndex((result) => typeof result !== 'string')] ?? '';
    expect((await auditRowsFor(under, requestIds)).map((row) => [row['request_id'], row['action']])).toEqual([
      [winnerId, 'patient.coverage.update'],
    ]);
    // Retries of the winner's X-Request-ID are answered the card again: each answer is a read of it.
    const replays = await allAtOnce(30, 20_000, () =>
      pds.updateCoverage({ coverage: cardFor(nhsNumber), ifMatch: 'W/"2"' }, patient(nhsNumber, winnerId)),
    );
    expect(tally(replays, (replay) => replay.status)).toEqual({ fulfilled: 30 });
    expect(await auditRowsFor(under, requestIds)).toEqual(
      Array.from({ length: 31 }, (): unknown =>
        expect.objectContaining({ request_id: winnerId, nhs_number: nhsNumber, action: 'patient.coverage.update' }),
      ),
    );
    expect(await state(nhsNumber)).toMatchObject({ version: 3, events: 1 });
  });

  it("audits 30 patients' simultaneous POSTs each once, under their own NHS number and request ID", async () => {
    const nhsNumbers: string[] = [];
    // One test connection: the patients are inserted one after another, then written to all at once.
    while (nhsNumbers.length < 30) nhsNumbers.push(await freshPatient());
    const requestIds = nhsNumbers.map(() => nextRequestId());
    const results = outcomes(
      await allAtOnce(30, 20_000, (i) => {
        const nhsNumber = nhsNumbers[i] ?? '';
        return pds.updateCoverage(
          { coverage: cardFor(nhsNumber), ifMatch: 'W/"2"' },
          patient(nhsNumber, requestIds[i]),
        );
      }),
    );
    expect(results.filter((result) => typeof result === 'string')).toEqual([]);
    const rows = await auditRowsFor(under, requestIds);
    expect(rows.map((row) => `${String(row['request_id'])} ${String(row['nhs_number'])}`).sort()).toEqual(
      requestIds.map((requestId, i) => `${requestId} ${nhsNumbers[i] ?? ''}`).sort(),
    );
  });

  it('answers no card whose audit could not be committed; the retry is answered and audited', async () => {
    const nhsNumber = await freshPatient();
    const requestId = nextRequestId();
    const write = (): Promise<unknown> =>
      pds.updateCoverage({ coverage: cardFor(nhsNumber), ifMatch: 'W/"2"' }, patient(nhsNumber, requestId));
    const refused = await whileAuditRefused(under, () => rejectionOf(write()));
    expect(refused.code).toBe('REC_SERVER_ERROR');
    expect(JSON.stringify(refused)).not.toContain('29401395498043123948');
    // The write itself was kept (once); its answer is given to the retry, with its audit row.
    expect(await write()).toMatchObject({ nhsNumber, versionId: 3, coverage: cardFor(nhsNumber) });
    expect(await auditRowsFor(under, [requestId])).toEqual([
      expect.objectContaining({ nhs_number: nhsNumber, action: 'patient.coverage.update' }),
    ]);
    expect(await state(nhsNumber)).toMatchObject({ version: 3, events: 1 });
  });

  it("lets a patient read and write their own card and nobody else's (the attacker asks for another's)", async () => {
    const own = await freshPatient();
    const other = await freshPatient();
    await pds.updateCoverage({ coverage: cardFor(other), ifMatch: 'W/"2"' }, patient(other));
    const written = await pds.updateCoverage({ coverage: cardFor(own), ifMatch: 'W/"2"' }, patient(own));
    expect(written.versionId).toBe(3);
    expect((await pds.getCoverage({ query: `subscriber:identifier=${own}` }, patient(own))).coverage).toEqual(
      cardFor(own),
    );
    const before = await state(other);
    const read = await rejectionOf(pds.getCoverage({ query: `subscriber:identifier=${other}` }, patient(own)));
    expect(read.code).toBe('ACCESS_DENIED');
    expect(read.httpStatus).toBe(403);
    const write = await rejectionOf(pds.updateCoverage({ coverage: cardFor(other), ifMatch: 'W/"3"' }, patient(own)));
    expect(write.code).toBe('ACCESS_DENIED');
    // A patient token without an NHS number reaches nobody's card.
    const anonymous: CallContext = {
      requestId: nextRequestId(),
      caller: { id: 'nhs-login-x', roles: ['patient'], accessMode: 'user-restricted' },
    };
    expect((await rejectionOf(pds.getCoverage({ query: `subscriber:identifier=${own}` }, anonymous))).code).toBe(
      'ACCESS_DENIED',
    );
    expect(await state(other)).toEqual(before);
    // Nor their record, nor their related people.
    expect((await rejectionOf(pds.getPatient({ nhsNumber: other }, patient(own)))).code).toBe('ACCESS_DENIED');
    expect((await rejectionOf(pds.listRelatedPersons({ nhsNumber: other }, patient(own)))).code).toBe('ACCESS_DENIED');
    expect((await pds.getPatient({ nhsNumber: own }, patient(own))).patient.id).toBe(own);
  });

  it('is patient access only: care roles, a caller who is also staff, and application-restricted access are refused 403, and nothing changes', async () => {
    const nhsNumber = await freshPatient();
    const before = await state(nhsNumber);
    const query = `subscriber:identifier=${nhsNumber}`;
    const staffAndPatient: CallContext = {
      requestId: nextRequestId(),
      caller: { id: 'gp-patient', roles: ['patient', 'clinician'], nhsNumber, accessMode: 'user-restricted' },
    };
    const application = (): CallContext => ({
      requestId: nextRequestId(),
      caller: { id: 'app', roles: ['patient'], nhsNumber, accessMode: 'application-restricted' },
    });
    // A statement without an access mode (an older gateway's) is read as application-restricted.
    const noMode = (): CallContext => ({
      requestId: nextRequestId(),
      caller: { id: 'old', roles: ['patient'], nhsNumber },
    });
    for (const caller of [clinician, () => staffAndPatient, application, noMode]) {
      const read = await rejectionOf(pds.getCoverage({ query }, caller()));
      expect([read.code, read.httpStatus]).toEqual(['ACCESS_DENIED', 403]);
      const write = await rejectionOf(pds.updateCoverage({ coverage: cardFor(nhsNumber), ifMatch: 'W/"2"' }, caller()));
      expect([write.code, write.httpStatus]).toEqual(['ACCESS_DENIED', 403]);
    }
    expect(await state(nhsNumber)).toEqual(before);
    const audit = await db.query(`SELECT count(*)::int AS n FROM "${schema}".read_audit WHERE nhs_number = $1`, [
      nhsNumber,
    ]);
    expect(audit.rows[0]?.n).toBe(0);
  });

  it("shows a restricted patient's card (it holds no locating details), never their address", async () => {
    const nhsNumber = await freshPatient(true);
    await pds.updateCoverage({ coverage: cardFor(nhsNumber), ifMatch: 'W/"2"' }, patient(nhsNumber));
    const read = await pds.getCoverage({ query: `subscriber:identifier=${nhsNumber}` }, patient(nhsNumber));
    expect(read.coverage).toEqual(cardFor(nhsNumber));
    expect(JSON.stringify(read)).not.toMatch(/Trevelyan|LS1 6AE|01632960587/);
  });

  it("follows a superseded number to the surviving patient's card", async () => {
    const survivor = await freshPatient();
    await pds.updateCoverage({ coverage: cardFor(survivor), ifMatch: 'W/"2"' }, patient(survivor));
    const old = generateNhsNumber(random, '9');
    await db.query(
      `INSERT INTO "${schema}".patient (nhs_number, version, resource, superseded_by) VALUES ($1, 1, $2, $3)`,
      [old, JSON.stringify({ ...janeSmith, id: old }), survivor],
    );
    const read = await pds.getCoverage({ query: `subscriber:identifier=${old}` }, patient(old));
    expect(read).toMatchObject({ nhsNumber: survivor, versionId: 3, coverage: cardFor(survivor) });
    // A card is written to the surviving record, not the superseded one.
    expect(
      (await rejectionOf(pds.updateCoverage({ coverage: cardFor(old), ifMatch: 'W/"1"' }, patient(old)))).code,
    ).toBe('INVALID_UPDATE');
  });
});
