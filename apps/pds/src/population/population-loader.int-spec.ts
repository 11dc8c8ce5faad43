import 'reflect-metadata';
import { Client, Pool } from 'pg';
import { dropSchema, testDatabaseUrl, uniqueName } from '@platform/shared-testing';
import type { PdsDatabase } from '../database/database.provider';
import { parseSearchQuery } from '../search/search-query';
import { PatientSearchRepository } from '../search/search.repository';
import { loadPopulation } from './population-loader';
import { PopulationGenerator } from './population';

const schema = uniqueName('pds_seed');
const databaseUrl = testDatabaseUrl();
const PATIENTS = 3000;

describe('loading a generated population with COPY', () => {
  let db: Client;
  let pool: Pool;
  const indexes = async (): Promise<string[]> =>
    (
      await db.query<{ indexname: string }>(
        `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename IN ('patient', 'patient_name', 'patient_address') ORDER BY 1`,
        [schema],
      )
    ).rows.map((row) => row.indexname);

  beforeAll(async () => {
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
    pool = new Pool({ connectionString: databaseUrl, max: 2 });
  });

  afterAll(async () => {
    await pool?.end();
    await db?.end();
    await dropSchema(databaseUrl, schema);
  });

  it('migrates the schema, loads every record with its search rows, and rebuilds the indexes', async () => {
    const phases: string[] = [];
    let progress = 0;
    const result = await loadPopulation({
      databaseUrl,
      schema,
      patients: PATIENTS,
      seed: 11,
      onProgress: (written) => (progress = written),
      onPhase: (phase) => phases.push(phase),
    });
    expect(result.patients).toBe(PATIENTS);
    expect(progress).toBe(PATIENTS);
    expect(phases).toEqual(['copy', 'indexes', 'analyze']);

    const counts = await db.query<{ patients: number; superseded: number; names: number; missing: number }>(`
      SELECT (SELECT count(*)::int FROM "${schema}".patient) AS patients,
             (SELECT count(*)::int FROM "${schema}".patient WHERE superseded_by IS NOT NULL) AS superseded,
             (SELECT count(*)::int FROM "${schema}".patient_name) AS names,
             (SELECT count(*)::int FROM "${schema}".patient p
               WHERE NOT EXISTS (SELECT 1 FROM "${schema}".patient_name n WHERE n.nhs_number = p.nhs_number)) AS missing`);
    expect(counts.rows[0]).toMatchObject({ patients: PATIENTS, missing: 0 });
    expect(counts.rows[0]?.names).toBeGreaterThan(PATIENTS);
    expect(await indexes()).toEqual(
      expect.arrayContaining([
        'patient_birth_date_idx',
        'patient_gp_ods_idx',
        'patient_name_family_idx',
        'patient_name_family_key_idx',
        'patient_name_given_key_idx',
        'patient_name_family_trgm_idx',
        'patient_address_postcode_idx',
      ]),
    );

    // What was loaded is what the generator makes for that seed, and search finds it.
    const first = new PopulationGenerator(11).next();
    const stored = await db.query<{ resource: unknown; family_key: string }>(
      `SELECT p.resource, n.family_key FROM "${schema}".patient p JOIN "${schema}".patient_name n USING (nhs_number)
       WHERE p.nhs_number = $1 AND n.seq = 0`,
      [first.nhsNumber],
    );
    expect(stored.rows[0]?.resource).toEqual(first.resource);
    expect(stored.rows[0]?.family_key).toMatch(/^[A-Z0]+$/);
    const usual = (first.resource['name'] as { use: string; family: string }[]).find((name) => name.use === 'usual');
    const search = new PatientSearchRepository({ pool, schema } as PdsDatabase);
    const hits = await search.search(
      parseSearchQuery(
        `family=${encodeURIComponent(usual?.family ?? '')}&birthdate=eq${String(first.resource['birthDate'])}`,
      ),
    );
    expect(hits.map((hit) => hit.patient.nhsNumber)).toContain(first.nhsNumber);
  });

  it('refuses to load into a schema that already holds a generated population, and leaves it as it was', async () => {
    const before = await indexes();
    await expect(loadPopulation({ databaseUrl, schema, patients: 10, seed: 12 })).rejects.toThrow(/already holds/);
    expect(await indexes()).toEqual(before);
  });
});
