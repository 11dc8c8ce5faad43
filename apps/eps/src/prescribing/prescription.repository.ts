import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import type { PrescriptionEvent, PrescriptionStatus } from '@platform/contracts-eps';
import type { ServiceDatabase } from '@platform/shared-persistence';
import { EPS_DATABASE } from '../database/database';
import type { Bundle } from './fhir';
import type { PrescriptionOrder } from './prescription-order';

type Db = Pool | PoolClient;

export interface StoredPrescription {
  shortFormId: string;
  longFormId: string;
  bundle: Bundle;
  status: PrescriptionStatus;
  patientNhsNumber: string;
  prescriberOds: string;
  prescriberSdsUserId: string;
  nominatedPharmacy: string | null;
  dispenser: string | null;
  itemIds: string[];
  cancelledItemIds: string[];
  /** Repeat dispensing: which issue of how many (1 of 1 otherwise). */
  currentIssue: number;
  issuesTotal: number;
  version: number;
}

interface Row {
  short_form_id: string;
  long_form_id: string;
  bundle: Bundle;
  status: PrescriptionStatus;
  patient_nhs_number: string;
  prescriber_ods: string;
  prescriber_sds_user_id: string;
  nominated_pharmacy: string | null;
  dispenser: string | null;
  item_ids: string[];
  cancelled_item_ids: string[];
  current_issue: number;
  issues_total: number;
  version: number;
}

const COLUMNS = `short_form_id, long_form_id, bundle, status, patient_nhs_number, prescriber_ods, prescriber_sds_user_id,
  nominated_pharmacy, dispenser, item_ids, cancelled_item_ids, current_issue, issues_total, version`;

function prescriptionOf(row: Row): StoredPrescription {
  return {
    shortFormId: row.short_form_id,
    longFormId: row.long_form_id,
    bundle: row.bundle,
    status: row.status,
    patientNhsNumber: row.patient_nhs_number,
    prescriberOds: row.prescriber_ods,
    prescriberSdsUserId: row.prescriber_sds_user_id,
    nominatedPharmacy: row.nominated_pharmacy,
    dispenser: row.dispenser,
    itemIds: row.item_ids,
    cancelledItemIds: row.cancelled_item_ids,
    currentIssue: row.current_issue,
    issuesTotal: row.issues_total,
    version: row.version,
  };
}

/** A history entry to write: what `PrescriptionEvent` reads back (before the database dates it), with its keys. */
export type EventRecord = Omit<PrescriptionEvent, 'at'> & { shortFormId: string; requestId: string };

/** Prescriptions, their history and the prescribers' keys. */
@Injectable()
export class PrescriptionRepository {
  private readonly pool: Pool;
  private readonly schema: string;

  constructor(@Inject(EPS_DATABASE) database: ServiceDatabase) {
    this.pool = database.pool;
    this.schema = `"${database.schema}"`;
  }

  /** Inserts a new prescription; false when its ID (short or long form) is already used. */
  async insert(transaction: PoolClient, order: PrescriptionOrder, bundle: Bundle): Promise<boolean> {
    const result = await transaction.query(
      `INSERT INTO ${this.schema}.prescription
         (short_form_id, long_form_id, bundle, status, patient_nhs_number, prescriber_ods, prescriber_sds_user_id,
          nominated_pharmacy, course_of_therapy, item_ids, expires_on, issues_total)
       VALUES ($1, $2, $3, '0001', $4, $5, $6, $7, $8, $9,
               coalesce($10::date, coalesce($11::date, current_date) + interval '6 months'), $12)
       ON CONFLICT DO NOTHING`,
      [
        order.shortFormId,
        order.longFormId,
        JSON.stringify(bundle),
        order.patientNhsNumber,
        order.prescriber.odsCode,
        order.prescriber.sdsUserId,
        order.nominatedPharmacy,
        order.courseOfTherapy,
        order.itemIds,
        order.validityEnd,
        order.validityStart,
        order.repeatsAllowed,
      ],
    );
    return (result.rowCount ?? 0) === 1;
  }

  async get(shortFormId: string, db: Db = this.pool, lock = false): Promise<StoredPrescription | null> {
    const result = await db.query<Row>(
      `SELECT ${COLUMNS} FROM ${this.schema}.prescription WHERE short_form_id = $1${lock ? ' FOR UPDATE' : ''}`,
      [shortFormId],
    );
    const row = result.rows[0];
    return row ? prescriptionOf(row) : null;
  }

  /**
   * Up to `limit` prescriptions nominated to `pharmacy` and still To Be Dispensed, oldest first, locked;
   * rows another release holds are skipped, so concurrent releases never get the same prescription.
   */
  async lockNominated(transaction: PoolClient, pharmacy: string, limit: number): Promise<StoredPrescription[]> {
    const result = await transaction.query<Row>(
      `SELECT ${COLUMNS} FROM ${this.schema}.prescription
       WHERE nominated_pharmacy = $1 AND status = '0001' AND signature_failed_at IS NULL
       ORDER BY created_at, short_form_id LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [pharmacy, limit],
    );
    return result.rows.map(prescriptionOf);
  }

  /**
   * Gives the prescription to `pharmacy` only if it is still To Be Dispensed: the condition is evaluated
   * on the row as it is when this transaction gets it, so of two racing releases only one matches.
   */
  async markReleased(transaction: PoolClient, shortFormId: string, pharmacy: string): Promise<boolean> {
    const result = await transaction.query(
      `UPDATE ${this.schema}.prescription
       SET status = '0002', dispenser = $2, released_at = now(), version = version + 1
       WHERE short_form_id = $1 AND status = '0001'`,
      [shortFormId, pharmacy],
    );
    return (result.rowCount ?? 0) === 1;
  }

  /** Cancels items of a prescription still To Be Dispensed; cancelled (0005) once every item is. */
  async cancelItems(transaction: PoolClient, shortFormId: string, itemIds: string[]): Promise<PrescriptionStatus> {
    const result = await transaction.query<{ status: PrescriptionStatus }>(
      `UPDATE ${this.schema}.prescription
       SET cancelled_item_ids = ARRAY(SELECT DISTINCT unnest(cancelled_item_ids || $2::text[])),
           status = CASE WHEN item_ids <@ (cancelled_item_ids || $2::text[]) THEN '0005' ELSE status END,
           version = version + 1
       WHERE short_form_id = $1 RETURNING status`,
      [shortFormId, itemIds],
    );
    return (result.rows[0] as { status: PrescriptionStatus }).status;
  }

  /** Items the prescriber asked to cancel while a pharmacy holds the prescription (the pharmacy is told). */
  async requestCancellation(transaction: PoolClient, shortFormId: string, itemIds: string[]): Promise<void> {
    await transaction.query(
      `UPDATE ${this.schema}.prescription
       SET cancellation_requested_item_ids = ARRAY(SELECT DISTINCT unnest(cancellation_requested_item_ids || $2::text[])),
           version = version + 1
       WHERE short_form_id = $1`,
      [shortFormId, itemIds],
    );
  }

  async setStatus(transaction: PoolClient, shortFormId: string, status: PrescriptionStatus): Promise<void> {
    await transaction.query(
      `UPDATE ${this.schema}.prescription SET status = $2, version = version + 1 WHERE short_form_id = $1`,
      [shortFormId, status],
    );
  }

  /** The dispense notification in force (neither superseded nor withdrawn) for an issue, if any. */
  async latestNotification(
    transaction: PoolClient,
    shortFormId: string,
    issue: number,
  ): Promise<{ id: string; statusBefore: PrescriptionStatus; statusAfter: PrescriptionStatus } | null> {
    const result = await transaction.query<{
      id: string;
      status_before: PrescriptionStatus;
      status_after: PrescriptionStatus;
    }>(
      `SELECT id, status_before, status_after FROM ${this.schema}.dispense_notification
       WHERE short_form_id = $1 AND issue_number = $2 AND superseded_at IS NULL AND withdrawn_at IS NULL
       ORDER BY created_at DESC LIMIT 1`,
      [shortFormId, issue],
    );
    const row = result.rows[0];
    return row ? { id: row.id, statusBefore: row.status_before, statusAfter: row.status_after } : null;
  }

  /** Records a dispense notification; false when its ID was used before. */
  async insertNotification(
    transaction: PoolClient,
    notification: {
      id: string;
      shortFormId: string;
      issue: number;
      pharmacy: string;
      before: PrescriptionStatus;
      after: PrescriptionStatus;
      bundle: unknown;
      replaces: string | null;
    },
  ): Promise<boolean> {
    if (notification.replaces) {
      await transaction.query(`UPDATE ${this.schema}.dispense_notification SET superseded_at = now() WHERE id = $1`, [
        notification.replaces,
      ]);
    }
    const result = await transaction.query(
      `INSERT INTO ${this.schema}.dispense_notification
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

  /**
   * Repeat dispensing: the current issue is done (dispensed or not); it waits in `completed_issue` for its
   * claim, and the next issue is To Be Dispensed with nobody.
   */
  async completeIssue(
    transaction: PoolClient,
    prescription: StoredPrescription,
    status: PrescriptionStatus,
  ): Promise<void> {
    await transaction.query(
      `INSERT INTO ${this.schema}.completed_issue (short_form_id, issue_number, status, dispenser) VALUES ($1, $2, $3, $4)`,
      [prescription.shortFormId, prescription.currentIssue, status, prescription.dispenser],
    );
    await transaction.query(
      `UPDATE ${this.schema}.prescription
       SET current_issue = current_issue + 1, status = '0001', dispenser = NULL, released_at = NULL, version = version + 1
       WHERE short_form_id = $1`,
      [prescription.shortFormId],
    );
  }

  /** The earliest completed issue `pharmacy` has not claimed yet, claimed now; its number, or null. */
  async claimCompletedIssue(transaction: PoolClient, shortFormId: string, pharmacy: string): Promise<number | null> {
    const result = await transaction.query<{ issue_number: number }>(
      `UPDATE ${this.schema}.completed_issue SET status = '0008'
       WHERE (short_form_id, issue_number) = (
         SELECT short_form_id, issue_number FROM ${this.schema}.completed_issue
         WHERE short_form_id = $1 AND dispenser = $2 AND status IN ('0006', '0007') ORDER BY issue_number LIMIT 1)
       RETURNING issue_number`,
      [shortFormId, pharmacy],
    );
    return result.rows[0]?.issue_number ?? null;
  }

  async withdrawNotification(transaction: PoolClient, id: string): Promise<void> {
    await transaction.query(`UPDATE ${this.schema}.dispense_notification SET withdrawn_at = now() WHERE id = $1`, [id]);
  }

  /**
   * Expires (0004) up to `limit` prescriptions still waiting or with a pharmacy whose validity ended before
   * `today`, oldest first, skipping rows a release or a cancel holds; answers what it expired.
   */
  async expireDue(
    transaction: PoolClient,
    today: string,
    limit: number,
  ): Promise<{ shortFormId: string; from: PrescriptionStatus; dispenser: string | null }[]> {
    const result = await transaction.query<{
      short_form_id: string;
      from_status: PrescriptionStatus;
      dispenser: string | null;
    }>(
      `WITH due AS (
         SELECT short_form_id, status FROM ${this.schema}.prescription
         WHERE status IN ('0001', '0002') AND expires_on < $1::date
         ORDER BY expires_on LIMIT $2 FOR UPDATE SKIP LOCKED
       )
       UPDATE ${this.schema}.prescription p SET status = '0004', version = p.version + 1
       FROM due WHERE p.short_form_id = due.short_form_id
       RETURNING p.short_form_id, due.status AS from_status, p.dispenser`,
      [today, limit],
    );
    return result.rows.map((row) => ({
      shortFormId: row.short_form_id,
      from: row.from_status,
      dispenser: row.dispenser,
    }));
  }

  /** Back from the pharmacy that held it: To Be Dispensed again, with nobody. */
  async markReturned(transaction: PoolClient, shortFormId: string): Promise<void> {
    await transaction.query(
      `UPDATE ${this.schema}.prescription SET status = '0001', dispenser = NULL, released_at = NULL, version = version + 1
       WHERE short_form_id = $1`,
      [shortFormId],
    );
  }

  /** A prescription whose signature failed at release stays with Spine (0001) and leaves nominated batches. */
  async markSignatureFailed(transaction: PoolClient, shortFormId: string): Promise<void> {
    await transaction.query(
      `UPDATE ${this.schema}.prescription SET signature_failed_at = now(), version = version + 1 WHERE short_form_id = $1`,
      [shortFormId],
    );
  }

  async appendEvent(transaction: PoolClient, event: EventRecord): Promise<void> {
    await transaction.query(
      `INSERT INTO ${this.schema}.prescription_event
         (short_form_id, kind, from_status, to_status, pharmacy, detail, actor, actor_organisation, request_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        event.shortFormId,
        event.kind,
        event.fromStatus,
        event.toStatus,
        event.pharmacy,
        event.detail,
        event.actor,
        event.actorOrganisation,
        event.requestId,
      ],
    );
  }

  async history(shortFormId: string): Promise<PrescriptionEvent[]> {
    const result = await this.pool.query<{
      kind: string;
      from_status: string | null;
      to_status: string | null;
      pharmacy: string | null;
      detail: string | null;
      actor: string;
      actor_organisation: string | null;
      at: Date;
    }>(`SELECT * FROM ${this.schema}.prescription_event WHERE short_form_id = $1 ORDER BY sequence`, [shortFormId]);
    return result.rows.map((row) => ({
      kind: row.kind,
      fromStatus: row.from_status,
      toStatus: row.to_status,
      pharmacy: row.pharmacy,
      detail: row.detail,
      actor: row.actor,
      actorOrganisation: row.actor_organisation,
      at: row.at.toISOString(),
    }));
  }

  async registerKey(sdsUserId: string, publicKeyPem: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.schema}.prescriber_key (sds_user_id, public_key_pem) VALUES ($1, $2)
       ON CONFLICT (sds_user_id) DO UPDATE SET public_key_pem = EXCLUDED.public_key_pem, registered_at = now()`,
      [sdsUserId, publicKeyPem],
    );
  }

  async publicKey(sdsUserId: string, db: Db = this.pool): Promise<string | null> {
    const result = await db.query<{ public_key_pem: string }>(
      `SELECT public_key_pem FROM ${this.schema}.prescriber_key WHERE sds_user_id = $1`,
      [sdsUserId],
    );
    return result.rows[0]?.public_key_pem ?? null;
  }
}
