import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import type { NatsConnection } from 'nats';
import { type Client } from 'pg';
import { type PdsClient, type Patient } from '@platform/contracts-pds';
import { loadConfig } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { NatsRpcClient, type CallContext } from '@platform/shared-nats';
import { referencePath, rejectionOf } from '@platform/shared-testing';
import { testCallerEnvironment, testGatewaySigner } from '@platform/testing-services';
import { PdsConfig } from './config/pds.config';
import { auditedReadStatement } from './audit/read-audit.repository';
import { MIGRATIONS } from './database/database';
import { startPds } from './pds';
import { startPdsUnderTest, type PdsUnderTest } from './pds.test-harness';

let schema = '';

function published(file: string): Patient {
  return JSON.parse(readFileSync(referencePath('pds-ers', 'pds', 'responses', file), 'utf8')) as Patient;
}

function context(requestId: string): CallContext {
  return {
    requestId,
    correlationId: `corr-${requestId}`,
    caller: {
      id: 'user-1',
      username: 'clinician',
      clientId: 'platform-cli',
      roles: ['clinician'],
      organisation: 'A83008',
      accessMode: 'user-restricted',
    },
  };
}

describe('PDS over NATS against PostgreSQL', () => {
  let under: PdsUnderTest;
  let connection: NatsConnection;
  let pds: PdsClient;
  let db: Client;

  type AuditRow = { request_id: string; organisation: string; actor_id: string; roles: string[] };
  const auditRows = async (nhsNumber: string): Promise<AuditRow[]> =>
    (await db.query<AuditRow>(`SELECT * FROM "${schema}".read_audit WHERE nhs_number = $1 ORDER BY id`, [nhsNumber]))
      .rows;

  beforeAll(async () => {
    under = await startPdsUnderTest({ schemaPrefix: 'pds_it', seed: 'sandbox' });
    ({ connection, pds, db, schema } = under);
  });

  afterAll(async () => {
    await under?.stop();
  });

  it('returns the sandbox patient as the NHS publishes it, with its version', async () => {
    const reply = await pds.getPatient({ nhsNumber: '9000000009' }, context('r-read'));
    expect(reply.versionId).toBe(2);
    expect(reply.patient).toEqual(published('Patient_9000000009.json'));
  });

  it('removes every locating field of a restricted patient, exactly as the sandbox answers', async () => {
    const stored = await db.query(`SELECT resource FROM "${schema}".patient WHERE nhs_number = '9000000025'`);
    expect(stored.rows[0].resource.address).toBeDefined();
    const reply = await pds.getPatient({ nhsNumber: '9000000025' }, context('r-restricted'));
    expect(reply.patient).toEqual(published('Sensitive_Patient_9000000025.json'));
    expect(JSON.stringify(reply.patient)).not.toMatch(/Hidden Lane|01632960587|FCG72|Y12345/);
  });

  it('returns a minimal record unchanged', async () => {
    const reply = await pds.getPatient({ nhsNumber: '9000000033' }, context('r-minimal'));
    expect(reply.patient).toEqual(published('Minimal_Patient_9000000033.json'));
  });

  it('refuses a bad check digit with INVALID_RESOURCE_ID before any lookup', async () => {
    for (const bad of ['9000000000', '900000000', 'abcdefghij', '90000000099']) {
      expect((await rejectionOf(pds.getPatient({ nhsNumber: bad }, context('r-bad')))).code).toBe(
        'INVALID_RESOURCE_ID',
      );
    }
    expect(await auditRows('9000000000')).toHaveLength(0);
  });

  it('answers RESOURCE_NOT_FOUND for a valid number nobody holds, and audits the attempt', async () => {
    expect((await rejectionOf(pds.getPatient({ nhsNumber: '9111231130' }, context('r-unknown')))).code).toBe(
      'RESOURCE_NOT_FOUND',
    );
    expect(await auditRows('9111231130')).toEqual([expect.objectContaining({ request_id: 'r-unknown' })]);
  });

  it('follows a superseded number to the surviving record and refuses an invalidated one', async () => {
    const janeSmith = published('Patient_9000000009.json');
    await db.query(
      `INSERT INTO "${schema}".patient (nhs_number, version, resource, superseded_by) VALUES ('9000000092', 1, $1, '9000000009')`,
      [JSON.stringify({ ...janeSmith, id: '9000000092' })],
    );
    await db.query(
      `INSERT INTO "${schema}".patient (nhs_number, version, resource, invalidated) VALUES ('9000000041', 1, $1, true)`,
      [JSON.stringify({ ...janeSmith, id: '9000000041' })],
    );
    const survivor = await pds.getPatient({ nhsNumber: '9000000092' }, context('r-superseded'));
    expect(survivor.patient.id).toBe('9000000009');
    expect((await rejectionOf(pds.getPatient({ nhsNumber: '9000000041' }, context('r-invalidated')))).code).toBe(
      'INVALIDATED_RESOURCE',
    );
  });

  it('writes one audit row per read, with who, which organisation and the request ID, even under concurrency', async () => {
    const before = (await auditRows('9000000033')).length;
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => pds.getPatient({ nhsNumber: '9000000033' }, context(`r-many-${i}`))),
    );
    const rows = await auditRows('9000000033');
    expect(rows).toHaveLength(before + 60);
    expect(new Set(rows.slice(before).map((row) => row.request_id)).size).toBe(60);
    expect(rows[rows.length - 1]).toMatchObject({ organisation: 'A83008', actor_id: 'user-1', roles: ['clinician'] });
  });

  it('gives each of many concurrent readers of different patients their own patient, each read audited once', async () => {
    const janeSmith = published('Patient_9000000009.json');
    await db.query(
      `INSERT INTO "${schema}".patient (nhs_number, version, resource, superseded_by, invalidated)
       VALUES ('9000000092', 1, $1, '9000000009', false), ('9000000041', 1, $2, null, true) ON CONFLICT DO NOTHING`,
      [JSON.stringify({ ...janeSmith, id: '9000000092' }), JSON.stringify({ ...janeSmith, id: '9000000041' })],
    );
    const wanted = ['9000000009', '9000000033', '9000000092', '9111231130', '9000000041'];
    const reads = Array.from({ length: 50 }, (_, i) => ({
      nhsNumber: wanted[i % wanted.length] ?? '',
      id: `r-mixed-${i}`,
    }));
    const answers = await Promise.all(
      reads.map(async ({ nhsNumber, id }) => {
        try {
          return (await pds.getPatient({ nhsNumber }, context(id))).patient.id;
        } catch (error) {
          return (error as { code?: string }).code;
        }
      }),
    );
    // 9000000092 was merged into 9000000009; 9111231130 is held by nobody; 9000000041 was invalidated.
    const expected: Record<string, string> = {
      '9000000009': '9000000009',
      '9000000033': '9000000033',
      '9000000092': '9000000009',
      '9111231130': 'RESOURCE_NOT_FOUND',
      '9000000041': 'INVALIDATED_RESOURCE',
    };
    expect(answers).toEqual(reads.map(({ nhsNumber }) => expected[nhsNumber]));
    const audited = await db.query<{ request_id: string; nhs_number: string }>(
      `SELECT request_id, nhs_number FROM "${schema}".read_audit WHERE request_id LIKE 'r-mixed-%'`,
    );
    expect(audited.rows.map((row) => `${row.request_id} ${row.nhs_number}`).sort()).toEqual(
      reads.map(({ nhsNumber, id }) => `${id} ${nhsNumber}`).sort(),
    );
  });

  it('reads the patients of a batch through the primary key', async () => {
    await db.query('BEGIN');
    try {
      // The table here is tiny, where a scan is cheapest; forbid scans to show the key can serve the read.
      await db.query('SET LOCAL enable_seqscan = off');
      const plan = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${auditedReadStatement(schema)}`, [
        [],
        [],
        [],
        [],
        [],
        [],
        [],
        [],
        [],
        [],
        ['9000000009', '9000000033'],
      ]);
      expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toMatch(/Index Scan (using|on) patient_pkey/);
    } finally {
      await db.query('ROLLBACK');
    }
  });

  it('answers no patient whose read could not be audited', async () => {
    await db.query(`ALTER TABLE "${schema}".read_audit ADD CONSTRAINT refuse_all CHECK (false) NOT VALID`);
    try {
      const refused = await rejectionOf(pds.getPatient({ nhsNumber: '9000000009' }, context('r-unaudited')));
      expect(refused.code).toBe('REC_SERVER_ERROR');
      expect(JSON.stringify(refused)).not.toContain('Smith');
    } finally {
      await db.query(`ALTER TABLE "${schema}".read_audit DROP CONSTRAINT refuse_all`);
    }
    expect((await pds.getPatient({ nhsNumber: '9000000009' }, context('r-audited-again'))).patient.id).toBe(
      '9000000009',
    );
  });

  describe('related people', () => {
    const publishedBundle = (): { entry: { resource: unknown }[] } =>
      JSON.parse(readFileSync(referencePath('pds-ers', 'pds', 'responses', 'RelatedPersonBundle.json'), 'utf8')) as {
        entry: { resource: unknown }[];
      };

    it('lists them as the NHS publishes them, and audits the read', async () => {
      const reply = await pds.listRelatedPersons({ nhsNumber: '9000000009' }, context('r-related'));
      expect(reply.nhsNumber).toBe('9000000009');
      // The published one first, then sandbox mode's second (ours, a reference to another record only).
      expect(reply.relatedPersons.slice(0, 1)).toEqual(publishedBundle().entry.map((entry) => entry.resource));
      expect(reply.relatedPersons.map((person) => person.id)).toEqual(['507B7621', '8E1B4C22']);
      const rows = await db.query(`SELECT action FROM "${schema}".read_audit WHERE request_id = 'r-related'`);
      expect(rows.rows).toEqual([{ action: 'patient.related-person.list' }]);
    });

    it('shows none for a restricted patient, though some are stored', async () => {
      const stored = await db.query(
        `SELECT count(*)::int AS n FROM "${schema}".related_person WHERE nhs_number = '9000000025'`,
      );
      expect(stored.rows[0].n).toBe(1);
      const reply = await pds.listRelatedPersons({ nhsNumber: '9000000025' }, context('r-related-restricted'));
      expect(reply.relatedPersons).toEqual([]);
    });

    it('refuses bad and unknown numbers with the same codes as a read', async () => {
      expect((await rejectionOf(pds.listRelatedPersons({ nhsNumber: '9000000000' }, context('r-rp-bad')))).code).toBe(
        'INVALID_RESOURCE_ID',
      );
      expect(
        (await rejectionOf(pds.listRelatedPersons({ nhsNumber: '9111231130' }, context('r-rp-unknown')))).code,
      ).toBe('RESOURCE_NOT_FOUND');
    });
  });

  it('rejects a payload that breaks the contract with INVALID_VALUE', async () => {
    const rpc = new NatsRpcClient(connection, { timeoutMs: 5000, signer: await testGatewaySigner() });
    const error = await rejectionOf(
      rpc.request('pds.patient.get.v1', { nhsNumber: '9000000009', extra: 'x' }, context('r-extra')),
    );
    expect(error.code).toBe('INVALID_VALUE');
  });

  it('runs its migrations once: a second start on the same schema leaves the data as it was', async () => {
    const config = loadConfig(PdsConfig, {
      ...(await testCallerEnvironment('pds')),
      NATS_URL: under.natsUrl,
      DATABASE_URL: under.databaseUrl,
      PDS_DB_SCHEMA: schema,
      PDS_HTTP_PORT: '0',
    });
    const second = await startPds(config, createLogger({ service: 'pds', level: 'silent' }));
    await second.close();
    const migrations = await db.query(`SELECT name FROM "${schema}".migrations`);
    expect(migrations.rows).toEqual(MIGRATIONS.map((migration) => ({ name: new migration().name })));
  });
});
