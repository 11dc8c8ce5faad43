import { Inject, Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { PRESCRIPTION_STATUS, type PrescriptionStatus } from '@platform/contracts-eps';
import type { ServiceDatabase } from '@platform/shared-persistence';
import { EPS_DATABASE } from '../database/database';
import type { StoredPrescription } from '../shared/prescription.repository';
import { statusLiteral } from '../shared/status-sql';

const TO_BE_DISPENSED = statusLiteral(PRESCRIPTION_STATUS.toBeDispensed);
const DISPENSED = statusLiteral(PRESCRIPTION_STATUS.dispensed);
const NOT_DISPENSED = statusLiteral(PRESCRIPTION_STATUS.notDispensed);
const CLAIMED = statusLiteral(PRESCRIPTION_STATUS.claimed);

/**
 * Repeat dispensing (eRD): an issue that is done (dispensed or not) waits in `completed_issue` for its claim
 * while the prescription moves on to its next issue.
 */
@Injectable()
export class RepeatIssueRepository {
  private readonly schema: string;

  constructor(@Inject(EPS_DATABASE) database: ServiceDatabase) {
    this.schema = `"${database.schema}"`;
  }

  /** The current issue is done; it waits for its claim, and the next issue is To Be Dispensed with nobody. */
  async complete(transaction: PoolClient, prescription: StoredPrescription, status: PrescriptionStatus): Promise<void> {
    await transaction.query(
      `INSERT INTO ${this.schema}.completed_issue (short_form_id, issue_number, status, dispenser) VALUES ($1, $2, $3, $4)`,
      [prescription.shortFormId, prescription.currentIssue, status, prescription.dispenser],
    );
    await transaction.query(
      `UPDATE ${this.schema}.prescription
       SET current_issue = current_issue + 1, status = ${TO_BE_DISPENSED}, dispenser = NULL, released_at = NULL,
           version = version + 1
       WHERE short_form_id = $1`,
      [prescription.shortFormId],
    );
  }

  /** The earliest completed issue `pharmacy` has not claimed yet, claimed now; its number, or null. */
  async claimEarliest(transaction: PoolClient, shortFormId: string, pharmacy: string): Promise<number | null> {
    const result = await transaction.query<{ issue_number: number }>(
      `UPDATE ${this.schema}.completed_issue SET status = ${CLAIMED}
       WHERE (short_form_id, issue_number) = (
         SELECT short_form_id, issue_number FROM ${this.schema}.completed_issue
         WHERE short_form_id = $1 AND dispenser = $2 AND status IN (${DISPENSED}, ${NOT_DISPENSED})
         ORDER BY issue_number LIMIT 1)
       RETURNING issue_number`,
      [shortFormId, pharmacy],
    );
    return result.rows[0]?.issue_number ?? null;
  }
}
