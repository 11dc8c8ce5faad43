import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@platform/shared-persistence';

/**
 * A008 reads a provider's worklist in the order it answers it, (updated_at, ubrn), from an index of that list
 * type's states, and stops at the limit: no sort (a list type has two or three states, whose rows the old index,
 * (provider_ods, state, updated_at), gave state by state), and a provider's closed referrals are not in it. The
 * states are those of `WORKLISTS` (src/provider/worklist.usecase.ts); the worklist test holds the statement's
 * plan to these indexes. The old index served only the worklist: every change of a referral at a provider wrote
 * to it.
 */
export class WorklistIndexes1796700000030 implements MigrationInterface {
  name = 'WorklistIndexes1796700000030';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner, 'ers');
    await queryRunner.query(
      `CREATE INDEX referral_for_review ON ${s}.referral (provider_ods, updated_at, ubrn)
        WHERE state IN ('BOOKED', 'AWAITING_TRIAGE')`,
    );
    await queryRunner.query(
      `CREATE INDEX referral_awaiting_booking ON ${s}.referral (provider_ods, updated_at, ubrn)
        WHERE state IN ('DEFERRED_TO_PROVIDER', 'ACCEPTED', 'TRIAGED_PROVIDER_TO_ACTION')`,
    );
    await queryRunner.query(`DROP INDEX ${s}.referral_worklist`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner, 'ers');
    await queryRunner.query(
      `CREATE INDEX referral_worklist ON ${s}.referral (provider_ods, state, updated_at) WHERE provider_ods IS NOT NULL`,
    );
    await queryRunner.query(`DROP INDEX ${s}.referral_awaiting_booking`);
    await queryRunner.query(`DROP INDEX ${s}.referral_for_review`);
  }
}
