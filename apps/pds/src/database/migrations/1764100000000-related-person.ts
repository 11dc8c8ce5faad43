import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A patient's related people (FHIR RelatedPerson), in the order PDS lists them. */
export class RelatedPerson1764100000000 implements MigrationInterface {
  name = 'RelatedPerson1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = `"${queryRunner.connection.driver.schema ?? 'pds'}"`;
    await queryRunner.query(`
      CREATE TABLE ${schema}.related_person (
        nhs_number char(10) NOT NULL REFERENCES ${schema}.patient (nhs_number) ON DELETE CASCADE,
        id text NOT NULL CHECK (id ~ '^[A-Za-z0-9.-]{1,64}$'),
        position integer NOT NULL,
        resource jsonb NOT NULL,
        PRIMARY KEY (nhs_number, id)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = `"${queryRunner.connection.driver.schema ?? 'pds'}"`;
    await queryRunner.query(`DROP TABLE ${schema}.related_person`);
  }
}
