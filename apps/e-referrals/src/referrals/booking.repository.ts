import { Inject, Injectable } from '@nestjs/common';
import { escapeLiteral, type PoolClient } from 'pg';
import type { FhirResource } from '@platform/contracts-ers';
import type { CallContext } from '@platform/shared-nats';
import { E_REFERRALS_DATABASE, type EReferralsDatabase } from '../database/database.provider';
import type { ServiceRecord } from '../directory/service-resource';
import type { ReferralState } from '../shared/states';
import { toReferral, type Referral, type ReferralRow } from './referral.repository';

/** Everything A016 decides on, read with the referral's row lock in one statement. */
export interface BookingContext {
  referral: Referral;
  /** The shortlist in order, with the services' names. */
  shortlist: { id: string; name: string }[];
  service?: Pick<ServiceRecord, 'id' | 'name' | 'odsCode' | 'active' | 'triage' | 'bookableType'>;
  slot?: { id: string; serviceId: string; start: string; end: string };
  /** Whether the service has a free future slot (only asked for a NO_SLOTS_AT_SERVICE deferral). */
  hasFreeSlot?: boolean;
  /** The new appointment's id (from the sequence: spent even when the booking is refused). */
  appointmentId: string;
}

/** What A016 asks of the store: its referral, the service named, the slot (a booking) and free slots (a deferral). */
export interface BookingAsk {
  ubrn: string;
  serviceId: string;
  slotId: string | null;
  askFreeSlot: boolean;
}

/** A read that found the referral's row lock held by another write (`FOR UPDATE NOWAIT`). */
export function lockedOut(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === '55P03';
}

export interface ContextRow extends ReferralRow {
  shortlist: { id: string; name: string }[] | null;
  h_id: string | null;
  h_name: string;
  h_ods_code: string;
  h_active: boolean;
  h_triage: boolean;
  h_bookable_type: ServiceRecord['bookableType'];
  s_id: string | null;
  s_service_id: string;
  s_start_at: Date;
  s_end_at: Date;
  has_free_slot: boolean | null;
  new_appointment_id: string;
}

/** What one A016 writes: the slot taken (if any), the appointment, the referral's next version and its event. */
export interface BookingWrite {
  ubrn: string;
  nextVersion: number;
  state: ReferralState;
  serviceId: string;
  providerOds: string;
  appointmentId: string;
  slotId: string | null;
  status: 'booked' | 'proposed';
  appointment: FhirResource;
  action: string;
  reason: string | null;
  comment: string | null;
  referral: FhirResource;
  changedBy: string;
  changedByOds: string;
  event: { subject: string; payload: unknown };
  context: CallContext;
}

/**
 * A016's two statements: one read of everything the booking decides on under the referral's lock (NOWAIT), and
 * one write that takes the slot with a conditional UPDATE and, only if it got it, creates the appointment and its
 * first version, moves the referral to its next version (checked against the version read), appends the history
 * entry and the outbox event. Two statements instead of one per table, and the read travels in the same round
 * trip as the X-Request-ID claim: with the stored answer and COMMIT, a booking is 3 round trips to PostgreSQL.
 */
@Injectable()
export class BookingRepository {
  private readonly s: string;

  constructor(@Inject(E_REFERRALS_DATABASE) database: EReferralsDatabase) {
    this.s = `"${database.schema}"`;
  }

  /**
   * The read of everything the booking decides on, under the referral's lock taken NOWAIT, as one statement
   * with its values as literals: it is sent in the X-Request-ID claim's round trip
   * (`IdempotentWrites.runAfterRead`), and runs only if `claimed` (this request holds its claim). A lock held by
   * another write fails it with 55P03 (`lockedOut` tells).
   */
  loadStatement(ask: BookingAsk, claimed: string): string {
    const s = this.s;
    const service = `${escapeLiteral(ask.serviceId)}::bigint`;
    const slot = ask.slotId === null ? 'NULL::bigint' : `${escapeLiteral(ask.slotId)}::bigint`;
    return `SELECT r.ubrn, r.version, r.state, r.patient_nhs_number, r.priority, r.specialty, r.clinic_type, r.referrer_ods,
                r.referrer_user, r.access_code, r.service_id::text AS service_id, r.provider_ods,
                r.appointment_id::text AS appointment_id, r.search_criteria, r.pathway_start, r.created_at, r.advice_ubrn,
                (SELECT json_agg(json_build_object('id', l.service_id::text, 'name', coalesce(x.name, '')) ORDER BY l.position)
                   FROM ${s}.referral_shortlist l LEFT JOIN ${s}.healthcare_service x ON x.id = l.service_id
                  WHERE l.ubrn = r.ubrn) AS shortlist,
                h.id::text AS h_id, h.name AS h_name, h.ods_code AS h_ods_code, h.active AS h_active,
                h.triage AS h_triage, h.bookable_type AS h_bookable_type,
                sl.id::text AS s_id, sl.service_id::text AS s_service_id, sl.start_at AS s_start_at, sl.end_at AS s_end_at,
                ${
                  ask.askFreeSlot
                    ? `EXISTS (SELECT 1 FROM ${s}.slot f WHERE f.service_id = ${service} AND f.status = 'free' AND f.start_at > now())`
                    : 'NULL::boolean'
                } AS has_free_slot,
                nextval('${s}.appointment_id')::text AS new_appointment_id
           FROM ${s}.referral r
           LEFT JOIN ${s}.healthcare_service h ON h.id = ${service}
           LEFT JOIN ${s}.slot sl ON sl.id = ${slot}
          WHERE r.ubrn = ${escapeLiteral(ask.ubrn)} AND ${claimed}
          FOR UPDATE OF r NOWAIT`;
  }

  /** What `loadStatement` read, or undefined when there is no such referral. */
  contextOf(rows: readonly ContextRow[]): BookingContext | undefined {
    const row = rows[0];
    if (!row) return undefined;
    return {
      referral: toReferral(row),
      shortlist: row.shortlist ?? [],
      ...(row.h_id
        ? {
            service: {
              id: row.h_id,
              name: row.h_name,
              odsCode: row.h_ods_code,
              active: row.h_active,
              triage: row.h_triage,
              bookableType: row.h_bookable_type,
            },
          }
        : {}),
      ...(row.s_id
        ? {
            slot: {
              id: row.s_id,
              serviceId: row.s_service_id,
              start: row.s_start_at.toISOString(),
              end: row.s_end_at.toISOString(),
            },
          }
        : {}),
      ...(row.has_free_slot !== null ? { hasFreeSlot: row.has_free_slot } : {}),
      appointmentId: row.new_appointment_id,
    };
  }

  /**
   * The booking's writes in one statement. Answers false, having changed nothing, when the slot was not free
   * (a concurrent booker took it: its UPDATE held the row, this one waited and then found it busy). The unique
   * index of booked appointments per slot is the database's backstop (23505, left to the caller).
   */
  async write(transaction: PoolClient, write: BookingWrite): Promise<boolean> {
    const s = this.s;
    const headers: Record<string, string> = { 'X-Request-ID': write.context.requestId };
    if (write.context.correlationId) headers['X-Correlation-ID'] = write.context.correlationId;
    const appointment = JSON.stringify(write.appointment);
    const result = await transaction.query<{ n: number }>(
      `WITH taken AS (
         UPDATE ${s}.slot SET status = 'busy' WHERE id = $3::bigint AND status = 'free' RETURNING id
       ), go AS (
         SELECT 1 WHERE $3::bigint IS NULL OR EXISTS (SELECT 1 FROM taken)
       ), appointment AS (
         INSERT INTO ${s}.appointment (id, ubrn, version, service_id, slot_id, status, resource)
         SELECT $4::bigint, $1, 1, $5::bigint, $3::bigint, $6, $7::jsonb FROM go RETURNING id
       ), appointment_version AS (
         INSERT INTO ${s}.appointment_version (appointment_id, version, resource) SELECT id, 1, $7::jsonb FROM appointment
       ), referral AS (
         UPDATE ${s}.referral SET version = $2::int, state = $8, service_id = $5::bigint, provider_ods = $9,
                appointment_id = $4::bigint, updated_at = now()
          WHERE ubrn = $1 AND version = $2::int - 1 AND EXISTS (SELECT 1 FROM appointment)
          RETURNING ubrn
       ), history AS (
         INSERT INTO ${s}.referral_version (ubrn, version, state, action, reason, comment, resource, changed_by, changed_by_ods)
         SELECT ubrn, $2::int, $8, $10, $11, $12, $13::jsonb, $14, $15 FROM referral
       ), event AS (
         INSERT INTO ${s}.outbox (subject, payload, headers) SELECT $16, $17::jsonb, $18::jsonb FROM referral
       )
       SELECT count(*)::int AS n FROM referral`,
      [
        write.ubrn,
        write.nextVersion,
        write.slotId,
        write.appointmentId,
        write.serviceId,
        write.status,
        appointment,
        write.state,
        write.providerOds,
        write.action,
        write.reason,
        write.comment,
        JSON.stringify(write.referral),
        write.changedBy,
        write.changedByOds,
        write.event.subject,
        JSON.stringify(write.event.payload),
        JSON.stringify(headers),
      ],
    );
    return result.rows[0]?.n === 1;
  }
}
