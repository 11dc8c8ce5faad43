import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The bodies (first nine digits) of NHS numbers this service allocates. A sequence never hands the same
 * value out twice, even across rolled-back transactions, so a number is never reused.
 */
export class NhsNumberAllocation1764400000000 implements MigrationInterface {
  name = 'NhsNumberAllocation1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = `"${queryRunner.connection.driver.schema ?? 'pds'}"`;
    await queryRunner.query(
      `CREATE SEQUENCE ${schema}.nhs_number_body AS integer START 960000000 MINVALUE 960000000 MAXVALUE 969999999 NO CYCLE`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = `"${queryRunner.connection.driver.schema ?? 'pds'}"`;
    await queryRunner.query(`DROP SEQUENCE ${schema}.nhs_number_body`);
  }
}
