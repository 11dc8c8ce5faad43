import { Inject, Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import type { PrescriptionStatus } from '@platform/contracts-eps';
import type { ServiceDatabase } from '@platform/shared-persistence';
import { EPS_DATABASE } from '../database/database';

/** A dispense notification as recorded: the status it found the prescription in and the one it left. */
export interface RecordedNotification {
  id: string;
  statusBefore: PrescriptionStatus;
  statusAfter: PrescriptionStatus;
}

/** A dispense notification to record, for one issue of a prescription. */
export interface NewNotification {
  id: string;
  shortFormId: string;
  issue: number;
  pharmacy: string;
  before: PrescriptionStatus;
  after: PrescriptionStatus;
  bundle: unknown;
  replaces: string | null;
}

/** Dispense notifications: recorded, amended (the one replaced is superseded) and withdrawn. */
@Injectable()
export class DispenseNotificationRepository {
  private readonly table: string;

  constructor(@Inject(EPS_DATABASE) database: ServiceDatabase) {
    this.table = `"${database.schema}".dispense_notification`;
  }

  /** The dispense notification in force (neither superseded nor withdrawn) for an issue, if any. */
  async latest(transaction: PoolClient, shortFormId: string, issue: number): Promise<RecordedNotification | null> {
    const result = await transaction.query<{
      id: string;
      status_before: PrescriptionStatus;
      status_after: PrescriptionStatus;
    }>(
      `SELECT id, status_before, status_after FROM ${this.table}
       WHERE short_form_id = $1 AND issue_number = $2 AND superseded_at IS NULL AND withdrawn_at IS NULL
       ORDER BY created_at DESC LIMIT 1`,
      [shortFormId, issue],
    );
    const row = result.rows[0];
    return row ? { id: row.id, statusBefore: row.status_before, statusAfter: row.status_after } : null;
  }

  /** Records a dispense notification; false when its ID was used before. */
  async insert(transaction: PoolClient, notification: NewNotification): Promise<boolean> {
    if (notification.replaces) {
      await transaction.query(`UPDATE ${this.table} SET superseded_at = now() WHERE id = $1`, [notification.replaces]);
    }
    const result = await transaction.query(
      `INSERT INTO ${this.table}
         (id, short_form_id, issue_number, pharmacy, status_before, status_after, bundle, replaces)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
      [
        notification.id,
        notification.shortFormId,
        notification.issue,
        notification.pharmacy,
        notification.before,
        notification.after,
        JSON.stringify(notification.bundle),
        notification.replaces,
      ],
    );
    return (result.rowCount ?? 0) === 1;
  }

  async withdraw(transaction: PoolClient, id: string): Promise<void> {
    await transaction.query(`UPDATE ${this.table} SET withdrawn_at = now() WHERE id = $1`, [id]);
  }
}
