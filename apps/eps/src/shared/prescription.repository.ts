import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { PRESCRIPTION_STATUS, type PrescriptionStatus } from '@platform/contracts-eps';
import type { ServiceDatabase } from '@platform/shared-persistence';
import { EPS_DATABASE } from '../database/database';
import type { Bundle } from './fhir';
import { statusLiteral } from './status-sql';

type Db = Pool | PoolClient;

const TO_BE_DISPENSED = statusLiteral(PRESCRIPTION_STATUS.toBeDispensed);
const WITH_DISPENSER = statusLiteral(PRESCRIPTION_STATUS.withDispenser);
const EXPIRED = statusLiteral(PRESCRIPTION_STATUS.expired);
const CANCELLED = statusLiteral(PRESCRIPTION_STATUS.cancelled);

/** What a new prescription stores beside its Bundle (a checked prescription order has these fields). */
export interface NewPrescription {
  shortFormId: string;
  longFormId: string;
  patientNhsNumber: string;
  prescriber: { sdsUserId: string; odsCode: string };
  nominatedPharmacy: string | null;
  courseOfTherapy: string;
  itemIds: string[];
  repeatsAllowed: number;
  validityStart: string | null;
  validityEnd: string | null;
}

export interface StoredPrescription {
  shortFormId: string;
  longFormId: string;
  bundle: Bundle;
  status: PrescriptionStatus;
  patientNhsNumber: string;
  prescriberOds: string;
  prescriberSdsUserId: string;
  /** The fingerprint of the prescriber's key that verified it at creation (null: loaded without one). */
  prescriberKeyFingerprint: string | null;
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
  prescriber_key_fingerprint: string | null;
  nominated_pharmacy: string | null;
  dispenser: string | null;
  item_ids: string[];
  cancelled_item_ids: string[];
  current_issue: number;
  issues_total: number;
  version: number;
}

const COLUMNS = `short_form_id, long_form_id, bundle, status, patient_nhs_number, prescriber_ods, prescriber_sds_user_id,
  prescriber_key_fingerprint, nominated_pharmacy, dispenser, item_ids, cancelled_item_ids, current_issue, issues_total, version`;

function prescriptionOf(row: Row): StoredPrescription {
  return {
    shortFormId: row.short_form_id,
    longFormId: row.long_form_id,
    bundle: row.bundle,
    status: row.status,
    patientNhsNumber: row.patient_nhs_number,
    prescriberOds: row.prescriber_ods,
    prescriberSdsUserId: row.prescriber_sds_user_id,
    prescriberKeyFingerprint: row.prescriber_key_fingerprint,
    nominatedPharmacy: row.nominated_pharmacy,
    dispenser: row.dispenser,
    itemIds: row.item_ids,
    cancelledItemIds: row.cancelled_item_ids,
    currentIssue: row.current_issue,
    issuesTotal: row.issues_total,
    version: row.version,
  };
}

/**
 * The prescription rows: created, read, released, cancelled, returned, expired. Their history, dispense
 * notifications, repeat issues and the prescribers' keys have repositories of their own.
 */
@Injectable()
export class PrescriptionRepository {
  private readonly pool: Pool;
  private readonly schema: string;

  constructor(@Inject(EPS_DATABASE) database: ServiceDatabase) {
    this.pool = database.pool;
    this.schema = `"${database.schema}"`;
  }

  /**
   * Inserts a new prescription with the fingerprint of the key that verified it; false when its ID (short or
   * long form) is already used.
   */
  async insert(
    transaction: PoolClient,
    order: NewPrescription,
    bundle: Bundle,
    keyFingerprint: string,
  ): Promise<boolean> {
    const result = await transaction.query(
      `INSERT INTO ${this.schema}.prescription
         (short_form_id, long_form_id, bundle, status, patient_nhs_number, prescriber_ods, prescriber_sds_user_id,
          nominated_pharmacy, course_of_therapy, item_ids, expires_on, issues_total, prescriber_key_fingerprint)
       VALUES ($1, $2, $3, ${TO_BE_DISPENSED}, $4, $5, $6, $7, $8, $9,
               coalesce($10::date, coalesce($11::date, current_date) + interval '6 months'), $12, $13)
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
        keyFingerprint,
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
       WHERE nominated_pharmacy = $1 AND status = ${TO_BE_DISPENSED} AND signature_failed_at IS NULL
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
       SET status = ${WITH_DISPENSER}, dispenser = $2, released_at = now(), version = version + 1
       WHERE short_form_id = $1 AND status = ${TO_BE_DISPENSED}`,
      [shortFormId, pharmacy],
    );
    return (result.rowCount ?? 0) === 1;
  }

  /** Cancels items of a prescription still To Be Dispensed; cancelled (0005) once every item is. */
  async cancelItems(transaction: PoolClient, shortFormId: string, itemIds: string[]): Promise<PrescriptionStatus> {
    const result = await transaction.query<{ status: PrescriptionStatus }>(
      `UPDATE ${this.schema}.prescription
       SET cancelled_item_ids = ARRAY(SELECT DISTINCT unnest(cancelled_item_ids || $2::text[])),
           status = CASE WHEN item_ids <@ (cancelled_item_ids || $2::text[]) THEN ${CANCELLED} ELSE status END,
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
         WHERE status IN (${TO_BE_DISPENSED}, ${WITH_DISPENSER}) AND expires_on < $1::date
         ORDER BY expires_on LIMIT $2 FOR UPDATE SKIP LOCKED
       )
       UPDATE ${this.schema}.prescription p SET status = ${EXPIRED}, version = p.version + 1
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
      `UPDATE ${this.schema}.prescription SET status = ${TO_BE_DISPENSED}, dispenser = NULL, released_at = NULL,
       version = version + 1 WHERE short_form_id = $1`,
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
}
