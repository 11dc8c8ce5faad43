import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import type { Client } from 'pg';
import type { PdsClient } from '@platform/contracts-pds';
import { isValidNhsNumber } from '@platform/shared-identifiers';
import type { CallContext } from '@platform/shared-nats';
import { allAtOnce, outcomes, referencePath, tally } from '@platform/shared-testing';
import { startPdsUnderTest, type PdsUnderTest } from './pds.test-harness';

/**
 * Fifty GP practices at once, against the service's default pool of 10 connections: every write path of PDS
 * finishes with the right answers (before, about 20 concurrent creates or 10 concurrent retries hung it).
 */
const CALLERS = 50;
const BOUND_MS = 20_000;

const allocate = JSON.parse(
  readFileSync(referencePath('pds-ers', 'pds', 'requests', 'PatientCreate', 'Allocate_NHS_Number.json'), 'utf8'),
) as Record<string, unknown>;

let counter = 0;
function context(): CallContext {
  const requestId = `00000000-0000-4000-a000-${String((counter += 1)).padStart(12, '0')}`;
  return { requestId, caller: { id: 'gp-user', username: 'clinician', roles: ['clinician'], organisation: 'A83008', accessMode: 'user-restricted' } };
}

function person(family: string): Record<string, unknown> {
  const names = structuredClone(allocate['name']) as { family: string }[];
  names[0].family = family;
  return { ...structuredClone(allocate), name: names };
}

describe('PDS writes under concurrency (50 callers, pool of 10)', () => {
  let under: PdsUnderTest;
  let pds: PdsClient;
  let db: Client;
  let schema = '';

  const count = async (sql: string, values: unknown[] = []): Promise<number> =>
    (await db.query<{ n: number }>(sql, values)).rows[0].n;

  beforeAll(async () => {
    under = await startPdsUnderTest({ schemaPrefix: 'pds_conc', seed: 'none' });
    ({ pds, db, schema } = under);
  });

  afterAll(async () => {
    await under?.stop();
  });

  it('allocates 50 different people 50 different numbers when they are registered at the same moment', async () => {
    // Letters only: names are compared without digits or punctuation.
    const letter = (n: number): string => String.fromCharCode(97 + n);
    const families = Array.from(
      { length: CALLERS },
      (_, i) => `Concurrent${letter(Math.floor(i / 26))}${letter(i % 26)}`,
    );
    const results = outcomes(
      await allAtOnce(CALLERS, BOUND_MS, (i) => pds.createPatient({ patient: person(families[i]) }, context())),
    );
    const numbers = results.map((result) => (typeof result === 'string' ? result : result.nhsNumber));
    expect(tally(numbers, (value) => (isValidNhsNumber(value) ? 'allocated' : value))).toEqual({ allocated: CALLERS });
    expect(new Set(numbers).size).toBe(CALLERS);
    expect(
      await count(`SELECT count(*)::int AS n FROM "${schema}".patient WHERE resource->'name'->0->>'family' = ANY($1)`, [
        families,
      ]),
    ).toBe(CALLERS);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM "${schema}".outbox WHERE subject = 'pds.patient.created.v1' AND payload->>'nhsNumber' = ANY($1)`,
        [numbers],
      ),
    ).toBe(CALLERS);
  });

  it('gives one person registered by 50 practices at once one number, and the others SINGLE_MATCH', async () => {
    const results = outcomes(
      await allAtOnce(CALLERS, BOUND_MS, () => pds.createPatient({ patient: person('Crowdedhouse') }, context())),
    );
    expect(tally(results, (result) => (typeof result === 'string' ? result : 'allocated'))).toEqual({
      allocated: 1,
      SINGLE_MATCH: CALLERS - 1,
    });
    expect(
      await count(
        `SELECT count(*)::int AS n FROM "${schema}".patient WHERE resource->'name'->0->>'family' = 'Crowdedhouse'`,
      ),
    ).toBe(1);
  });

  it('answers 50 simultaneous retries of one create with one number, allocated once', async () => {
    const retry = context();
    const request = { patient: person('Retriedmany') };
    const results = outcomes(await allAtOnce(CALLERS, BOUND_MS, () => pds.createPatient(request, retry)));
    const numbers = new Set(results.map((result) => (typeof result === 'string' ? result : result.nhsNumber)));
    expect(numbers.size).toBe(1);
    expect(isValidNhsNumber([...numbers][0])).toBe(true);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM "${schema}".patient WHERE resource->'name'->0->>'family' = 'Retriedmany'`,
      ),
    ).toBe(1);
  });

  it('lets exactly one of 50 simultaneous updates of one version win; the others get 409 and change nothing', async () => {
    const { nhsNumber } = await pds.createPatient({ patient: person('Contested') }, context());
    const results = outcomes(
      await allAtOnce(CALLERS, BOUND_MS, (i) =>
        pds.updatePatient(
          {
            nhsNumber,
            ifMatch: 'W/"1"',
            patches: [{ op: 'replace', path: '/birthDate', value: `19${String(10 + i)}-01-01` }],
          },
          context(),
        ),
      ),
    );
    expect(tally(results, (result) => (typeof result === 'string' ? result : 'updated'))).toEqual({
      updated: 1,
      RESOURCE_VERSION_MISMATCH: CALLERS - 1,
    });
    const stored = await db.query<{ version: number }>(
      `SELECT version FROM "${schema}".patient WHERE nhs_number = $1`,
      [nhsNumber],
    );
    expect(stored.rows[0].version).toBe(2);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM "${schema}".outbox WHERE subject = 'pds.patient.updated.v1' AND payload->>'nhsNumber' = $1`,
        [nhsNumber],
      ),
    ).toBe(1);
  });

  it('applies 50 simultaneous retries of one update once', async () => {
    const { nhsNumber } = await pds.createPatient({ patient: person('Patchedonce') }, context());
    const retry = context();
    const request = { nhsNumber, ifMatch: 'W/"1"', patches: [{ op: 'replace', path: '/gender', value: 'male' }] };
    const results = outcomes(await allAtOnce(CALLERS, BOUND_MS, () => pds.updatePatient(request, retry)));
    expect(tally(results, (result) => (typeof result === 'string' ? result : `v${result.versionId}`))).toEqual({
      v2: CALLERS,
    });
    expect(
      await count(
        `SELECT count(*)::int AS n FROM "${schema}".outbox WHERE subject = 'pds.patient.updated.v1' AND payload->>'nhsNumber' = $1`,
        [nhsNumber],
      ),
    ).toBe(1);
  });
});
