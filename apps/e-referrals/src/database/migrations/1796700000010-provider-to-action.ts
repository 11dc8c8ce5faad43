import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@platform/shared-persistence';
import { REFERRAL_STATES as FIRST_STATES } from './1796500000000-referrals';

/** The referral states from this migration on: A022 leaves a referral TRIAGED_PROVIDER_TO_ACTION. */
export const REFERRAL_STATES = [...FIRST_STATES, 'TRIAGED_PROVIDER_TO_ACTION'] as const;

function stateCheck(states: readonly string[]): string {
  return `CHECK (state IN (${states.map((state) => `'${state}'`).join(', ')}))`;
}

/**
 * A022 (cancel appointment, action later): the provider cancels the booked appointment and tasks its admin
 * team to rebook or redirect the referral, which the NHS names TRIAGED_PROVIDER_TO_ACTION.
 */
export class ProviderToAction1796700000010 implements MigrationInterface {
  name = 'ProviderToAction1796700000010';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner, 'ers');
    await queryRunner.query(`ALTER TABLE ${s}.referral DROP CONSTRAINT referral_state_check`);
    await queryRunner.query(
      `ALTER TABLE ${s}.referral ADD CONSTRAINT referral_state_check ${stateCheck(REFERRAL_STATES)}`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner, 'ers');
    await queryRunner.query(`ALTER TABLE ${s}.referral DROP CONSTRAINT referral_state_check`);
    await queryRunner.query(
      `ALTER TABLE ${s}.referral ADD CONSTRAINT referral_state_check ${stateCheck(FIRST_STATES)}`,
    );
  }
}
