import type { MigrationInterface, QueryRunner } from 'typeorm';
import { backfillSearchRows } from '../search-backfill';

/**
 * Patient search: indexed columns on `patient` and one row per name and per address, matched in
 * PostgreSQL. `fuzzystrmatch` (double metaphone) and `pg_trgm` live in schema `public`, once per database;
 * the functions and operator classes are always called schema-qualified. The phonetic keys are generated
 * columns, so every writer (the repository, COPY in the population generator) gets them computed by the
 * same function the search calls.
 *
 * The name and address rows are derived data, replaced with the resource in the same transaction; they
 * carry no foreign key so that the population generator can COPY the three tables side by side.
 */
export class Search1764200000000 implements MigrationInterface {
  name = 'Search1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schemaName = queryRunner.connection.driver.schema ?? 'pds';
    const schema = `"${schemaName}"`;
    // Two services migrating at once must not race to create the extensions (a unique violation otherwise).
    await queryRunner.query(`SELECT pg_advisory_xact_lock(hashtext('platform:create-extension'))`);
    await queryRunner.query('CREATE EXTENSION IF NOT EXISTS fuzzystrmatch SCHEMA public');
    await queryRunner.query('CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public');

    await queryRunner.query(`
      ALTER TABLE ${schema}.patient
        ADD COLUMN gender text,
        ADD COLUMN birth_date date,
        ADD COLUMN death_date date,
        ADD COLUMN gp_ods text,
        ADD COLUMN emails text[] NOT NULL DEFAULT '{}',
        ADD COLUMN phones text[] NOT NULL DEFAULT '{}'`);
    await queryRunner.query(`CREATE INDEX patient_birth_date_idx ON ${schema}.patient (birth_date)`);
    await queryRunner.query(`CREATE INDEX patient_gp_ods_idx ON ${schema}.patient (gp_ods)`);

    await queryRunner.query(`
      CREATE TABLE ${schema}.patient_name (
        nhs_number char(10) NOT NULL,
        seq smallint NOT NULL,
        family text NOT NULL,
        given text[] NOT NULL,
        family_norm text COLLATE "C" NOT NULL,
        given_norm text[] COLLATE "C" NOT NULL,
        given_first text COLLATE "C" GENERATED ALWAYS AS (coalesce(given_norm[1], '')) STORED,
        family_key text GENERATED ALWAYS AS (public.dmetaphone(family_norm)) STORED,
        given_key text GENERATED ALWAYS AS (public.dmetaphone(coalesce(given_norm[1], ''))) STORED,
        birth_date date,
        current boolean NOT NULL,
        PRIMARY KEY (nhs_number, seq)
      )`);
    // Exact and wildcard-prefix family (the C collation lets LIKE 'ab%' use the btree), then birth date.
    await queryRunner.query(`CREATE INDEX patient_name_family_idx ON ${schema}.patient_name (family_norm, birth_date)`);
    // Fuzzy: phonetic family, and phonetic first given name for transposed names and given-name searches.
    await queryRunner.query(
      `CREATE INDEX patient_name_family_key_idx ON ${schema}.patient_name (family_key, birth_date)`,
    );
    await queryRunner.query(
      `CREATE INDEX patient_name_given_key_idx ON ${schema}.patient_name (given_key, birth_date)`,
    );
    // Wildcards anywhere after the first two characters (`Sm*th`).
    await queryRunner.query(
      `CREATE INDEX patient_name_family_trgm_idx ON ${schema}.patient_name USING gin (family_norm public.gin_trgm_ops)`,
    );

    await queryRunner.query(`
      CREATE TABLE ${schema}.patient_address (
        nhs_number char(10) NOT NULL,
        seq smallint NOT NULL,
        postcode_norm text COLLATE "C" NOT NULL,
        current boolean NOT NULL,
        PRIMARY KEY (nhs_number, seq)
      )`);
    await queryRunner.query(`CREATE INDEX patient_address_postcode_idx ON ${schema}.patient_address (postcode_norm)`);

    // Patients stored before this migration get their search rows from their resources.
    await backfillSearchRows(queryRunner, schemaName);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = `"${queryRunner.connection.driver.schema ?? 'pds'}"`;
    await queryRunner.query(`DROP TABLE ${schema}.patient_address`);
    await queryRunner.query(`DROP TABLE ${schema}.patient_name`);
    await queryRunner.query(`DROP INDEX ${schema}.patient_gp_ods_idx`);
    await queryRunner.query(`DROP INDEX ${schema}.patient_birth_date_idx`);
    await queryRunner.query(`
      ALTER TABLE ${schema}.patient
        DROP COLUMN gender, DROP COLUMN birth_date, DROP COLUMN death_date, DROP COLUMN gp_ods,
        DROP COLUMN emails, DROP COLUMN phones`);
  }
}
