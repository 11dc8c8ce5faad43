import { Inject, Injectable } from '@nestjs/common';
import { types, type CustomTypesConfig, type Pool, type PoolClient } from 'pg';
import type { FhirResource, WorklistRow } from '@platform/contracts-ers';
import type { CallContext } from '@platform/shared-nats';
import { E_REFERRALS_DATABASE, type EReferralsDatabase } from '../database/database.provider';
import type { ReferralState } from '../shared/states';

/** Search criteria kept with a referral (the contained eRS-ServiceSearchCriteria-Parameters). */
export interface SearchCriteria {
  priority: string;
  specialty?: string;
  clinicType?: string;
  postcode?: string;
  distanceLimit?: number;
  ageAndGenderAppropriate?: boolean;
  waitTimeLimitDays?: number;
}

export interface Referral {
  ubrn: string;
  version: number;
  state: ReferralState;
  patientNhsNumber: string;
  priority: string;
  specialty: string | null;
  clinicType: string | null;
  referrerOds: string;
  referrerUser: string;
  accessCode: string;
  serviceId: string | null;
  providerOds: string | null;
  appointmentId: string | null;
  searchCriteria: SearchCriteria;
  pathwayStart: string | null;
  createdAt: string;
  /** The Advice and Guidance request the referral was converted from (A027), named in its supportingInfo. */
  adviceUbrn?: string;
}

/** A referral row as PostgreSQL returns COLUMNS (the booking read returns the same columns and more). */
export interface ReferralRow {
  ubrn: string;
  version: number;
  state: ReferralState;
  patient_nhs_number: string;
  priority: string;
  specialty: string | null;
  clinic_type: string | null;
  referrer_ods: string;
  referrer_user: string;
  access_code: string;
  service_id: string | null;
  provider_ods: string | null;
  appointment_id: string | null;
  search_criteria: SearchCriteria;
  pathway_start: Date | null;
  created_at: Date;
  advice_ubrn: string | null;
}

const COLUMNS = `ubrn, version, state, patient_nhs_number, priority, specialty, clinic_type, referrer_ods, referrer_user,
  access_code, service_id::text AS service_id, provider_ods, appointment_id::text AS appointment_id, search_criteria,
  pathway_start, created_at, advice_ubrn`;

export function toReferral(row: ReferralRow): Referral {
  return {
    ubrn: row.ubrn,
    version: row.version,
    state: row.state,
    patientNhsNumber: row.patient_nhs_number,
    priority: row.priority,
    specialty: row.specialty,
    clinicType: row.clinic_type,
    referrerOds: row.referrer_ods,
    referrerUser: row.referrer_user,
    accessCode: row.access_code,
    serviceId: row.service_id,
    providerOds: row.provider_ods,
    appointmentId: row.appointment_id,
    searchCriteria: row.search_criteria,
    pathwayStart: row.pathway_start?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    ...(row.advice_ubrn ? { adviceUbrn: row.advice_ubrn } : {}),
  };
}

export interface Appointment {
  id: string;
  ubrn: string;
  version: number;
  serviceId: string;
  slotId: string | null;
  status: 'booked' | 'proposed' | 'cancelled';
  resource: FhirResource;
}

/** Thrown inside a write when another transaction holds the referral: answered 423 and not kept for retries. */
export class ReferralLocked extends Error {
  constructor() {
    super('referral locked');
  }
}

/** bigint (int8, oid 20) columns as numbers: the worklist's epoch milliseconds, exact below 2^53. */
const INT8_OID = 20;
const INT8_AS_NUMBER: CustomTypesConfig = {
  getTypeParser: ((oid: number, format: 'text' | 'binary' = 'text'): ((value: string) => unknown) =>
    oid === INT8_OID
      ? Number
      : (types.getTypeParser(oid, format) as (value: string) => unknown)) as CustomTypesConfig['getTypeParser'],
};

/** The only code that reads and writes referrals, their shortlists, versions and appointments. */
@Injectable()
export class ReferralRepository {
  private readonly pool: Pool;
  private readonly s: string;

  constructor(@Inject(E_REFERRALS_DATABASE) database: EReferralsDatabase) {
    this.pool = database.pool;
    this.s = `"${database.schema}"`;
  }

  /** A new UBRN from the sequence: 12 digits, never reused (a sequence value is spent even if the create rolls back). */
  async nextUbrn(transaction: PoolClient): Promise<string> {
    const result = await transaction.query<{ ubrn: string }>(
      `SELECT lpad(nextval('${this.s}.ubrn')::text, 12, '0') AS ubrn`,
    );
    return result.rows[0]?.ubrn ?? '';
  }

  async insert(transaction: PoolClient, referral: Referral): Promise<void> {
    await transaction.query(
      `INSERT INTO ${this.s}.referral (ubrn, version, state, patient_nhs_number, priority, specialty, clinic_type,
         referrer_ods, referrer_user, access_code, service_id, provider_ods, appointment_id, search_criteria, pathway_start,
         advice_ubrn)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
      [
        referral.ubrn,
        referral.version,
        referral.state,
        referral.patientNhsNumber,
        referral.priority,
        referral.specialty,
        referral.clinicType,
        referral.referrerOds,
        referral.referrerUser,
        referral.accessCode,
        referral.serviceId,
        referral.providerOds,
        referral.appointmentId,
        JSON.stringify(referral.searchCriteria),
        referral.pathwayStart,
        referral.adviceUbrn ?? null,
      ],
    );
  }

  /**
   * Locks the referral for this write without waiting: a concurrent write to the same referral holds it, and
   * the NHS answers that with 423 Locked (SELECT ... FOR UPDATE NOWAIT, lock_not_available).
   */
  async lock(transaction: PoolClient, ubrn: string): Promise<Referral | undefined> {
    try {
      const result = await transaction.query<ReferralRow>(
        `SELECT ${COLUMNS} FROM ${this.s}.referral WHERE ubrn = $1 FOR UPDATE NOWAIT`,
        [ubrn],
      );
      const row = result.rows[0];
      return row ? toReferral(row) : undefined;
    } catch (error) {
      if ((error as { code?: string }).code === '55P03') throw new ReferralLocked();
      throw error;
    }
  }

  async update(transaction: PoolClient, referral: Referral): Promise<void> {
    await transaction.query(
      `UPDATE ${this.s}.referral SET version = $2, state = $3, service_id = $4, provider_ods = $5, appointment_id = $6,
         search_criteria = $7, priority = $8, specialty = $9, clinic_type = $10, updated_at = now() WHERE ubrn = $1`,
      [
        referral.ubrn,
        referral.version,
        referral.state,
        referral.serviceId,
        referral.providerOds,
        referral.appointmentId,
        JSON.stringify(referral.searchCriteria),
        referral.priority,
        referral.specialty,
        referral.clinicType,
      ],
    );
  }

  async replaceShortlist(transaction: PoolClient, ubrn: string, serviceIds: string[]): Promise<void> {
    await transaction.query(`DELETE FROM ${this.s}.referral_shortlist WHERE ubrn = $1`, [ubrn]);
    await transaction.query(
      `INSERT INTO ${this.s}.referral_shortlist (ubrn, position, service_id)
       SELECT $1, n, id FROM unnest($2::bigint[]) WITH ORDINALITY AS t(id, n)`,
      [ubrn, serviceIds],
    );
  }

  async shortlist(db: Pool | PoolClient, ubrn: string): Promise<string[]> {
    const result = await db.query<{ service_id: string }>(
      `SELECT service_id::text AS service_id FROM ${this.s}.referral_shortlist WHERE ubrn = $1 ORDER BY position`,
      [ubrn],
    );
    return result.rows.map((row) => row.service_id);
  }

  async saveVersion(
    transaction: PoolClient,
    version: {
      referral: Referral;
      action: string;
      reason?: string;
      comment?: string;
      resource: FhirResource;
      changedBy: string;
      changedByOds?: string;
      /** The clinician a SERVICE_PROVIDER_CLINICIAN_ADMIN (changedBy) acted on behalf of. */
      onBehalfOf?: string;
    },
  ): Promise<void> {
    await transaction.query(
      `INSERT INTO ${this.s}.referral_version (ubrn, version, state, action, reason, comment, resource, changed_by, changed_by_ods, on_behalf_of)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        version.referral.ubrn,
        version.referral.version,
        version.referral.state,
        version.action,
        version.reason ?? null,
        version.comment ?? null,
        JSON.stringify(version.resource),
        version.changedBy,
        version.changedByOds ?? null,
        version.onBehalfOf ?? null,
      ],
    );
  }

  /**
   * A referral's resource (current, or one version) with the parties who may see it, and the read recorded in
   * the audit trail in the same statement.
   */
  async readAudited(
    ubrn: string,
    version: number | undefined,
    action: string,
    context: CallContext & { businessFunction?: string; onBehalfOf?: string },
  ): Promise<
    | {
        resource: FhirResource;
        version: number;
        referrerOds: string;
        providerOds: string | null;
        shortlistOds: string[];
      }
    | undefined
  > {
    const result = await this.pool.query<{
      resource: FhirResource;
      version: number;
      referrer_ods: string;
      provider_ods: string | null;
      shortlist_ods: string[];
    }>(
      `WITH audit AS (
         INSERT INTO ${this.s}.read_audit (ubrn, action, actor_id, organisation, business_function, request_id, correlation_id, on_behalf_of)
         VALUES ($1, $3, $4, $5, $6, $7, $8, $9)
       )
       SELECT v.resource, v.version, r.referrer_ods, r.provider_ods,
              ARRAY(SELECT h.ods_code FROM ${this.s}.referral_shortlist l
                      JOIN ${this.s}.healthcare_service h ON h.id = l.service_id WHERE l.ubrn = r.ubrn) AS shortlist_ods
         FROM ${this.s}.referral r
         JOIN ${this.s}.referral_version v ON v.ubrn = r.ubrn AND v.version = coalesce($2, r.version)
        WHERE r.ubrn = $1`,
      [
        ubrn,
        version ?? null,
        action,
        context.caller?.id ?? 'anonymous',
        context.caller?.organisation ?? null,
        context.businessFunction ?? null,
        context.requestId,
        context.correlationId ?? null,
        context.onBehalfOf ?? null,
      ],
    );
    const row = result.rows[0];
    return row
      ? {
          resource: row.resource,
          version: row.version,
          referrerOds: row.referrer_ods,
          providerOds: row.provider_ods,
          shortlistOds: row.shortlist_ods,
        }
      : undefined;
  }

  async find(ubrn: string): Promise<Referral | undefined> {
    const result = await this.pool.query<ReferralRow>(`SELECT ${COLUMNS} FROM ${this.s}.referral WHERE ubrn = $1`, [
      ubrn,
    ]);
    const row = result.rows[0];
    return row ? toReferral(row) : undefined;
  }

  async exists(db: Pool | PoolClient, ubrn: string): Promise<boolean> {
    const result = await db.query(`SELECT 1 FROM ${this.s}.referral WHERE ubrn = $1`, [ubrn]);
    return (result.rowCount ?? 0) > 0;
  }

  /** A new appointment (its id from the sequence unless given); its resource is saved with its first version. */
  async insertAppointment(
    transaction: PoolClient,
    appointment: { id?: string; ubrn: string; serviceId: string; slotId: string | null; status: Appointment['status'] },
  ): Promise<string> {
    const result = await transaction.query<{ id: string }>(
      `INSERT INTO ${this.s}.appointment (id, ubrn, service_id, slot_id, status, resource)
       VALUES (coalesce($5::bigint, nextval('${this.s}.appointment_id')), $1, $2, $3, $4, '{}')
       RETURNING id::text AS id`,
      [appointment.ubrn, appointment.serviceId, appointment.slotId, appointment.status, appointment.id ?? null],
    );
    return result.rows[0]?.id ?? '';
  }

  async saveAppointmentVersion(transaction: PoolClient, appointment: Appointment): Promise<void> {
    await transaction.query(`UPDATE ${this.s}.appointment SET version = $2, status = $3, resource = $4 WHERE id = $1`, [
      appointment.id,
      appointment.version,
      appointment.status,
      JSON.stringify(appointment.resource),
    ]);
    await transaction.query(
      `INSERT INTO ${this.s}.appointment_version (appointment_id, version, resource) VALUES ($1, $2, $3)`,
      [appointment.id, appointment.version, JSON.stringify(appointment.resource)],
    );
  }

  async appointment(id: string, db: Pool | PoolClient = this.pool): Promise<Appointment | undefined> {
    if (!/^[0-9]{1,15}$/.test(id)) return undefined;
    const result = await db.query<{
      id: string;
      ubrn: string;
      version: number;
      service_id: string;
      slot_id: string | null;
      status: Appointment['status'];
      resource: FhirResource;
    }>(
      `SELECT id::text AS id, ubrn, version, service_id::text AS service_id, slot_id::text AS slot_id, status, resource
         FROM ${this.s}.appointment WHERE id = $1`,
      [id],
    );
    const row = result.rows[0];
    return row
      ? {
          id: row.id,
          ubrn: row.ubrn,
          version: row.version,
          serviceId: row.service_id,
          slotId: row.slot_id,
          status: row.status,
          resource: row.resource,
        }
      : undefined;
  }

  async appointmentVersion(id: string, version: number): Promise<FhirResource | undefined> {
    if (!/^[0-9]{1,15}$/.test(id)) return undefined;
    const result = await this.pool.query<{ resource: FhirResource }>(
      `SELECT resource FROM ${this.s}.appointment_version WHERE appointment_id = $1 AND version = $2`,
      [id, version],
    );
    return result.rows[0]?.resource;
  }

  /**
   * A008: a provider's referrals in the given states, oldest change first, with the total and the names of their
   * services. The list is plain rows in the order of the list type's own index (`referral_for_review`,
   * `referral_awaiting_booking`: the provider's referrals in those states by (updated_at, ubrn)), so PostgreSQL
   * neither sorts nor builds JSON, and stops at the limit. Dates travel as epoch milliseconds (floored, as
   * to_char's MS truncates) and are written as ISO text by `worklistBody`. The services' names, and the total
   * when the list reached its limit, are a second statement.
   */
  async worklist(
    providerOds: string,
    states: readonly string[],
    filters: { priority?: string; serviceIds?: string[]; limit: number },
  ): Promise<{ total: number; rows: WorklistRow<number>[]; services: Record<string, string> }> {
    const { text, values, where, whereValues } = worklistStatement(this.s, providerOds, states, filters);
    const listed = await this.pool.query<WorklistRow<number>>({
      text,
      values,
      rowMode: 'array',
      types: INT8_AS_NUMBER,
    });
    const rows = listed.rows as unknown as WorklistRow<number>[];
    const serviceIds = [...new Set(rows.map((row) => row[5]).filter((id) => id !== null))];
    const reached = rows.length >= filters.limit;
    if (!serviceIds.length && !reached) return { total: rows.length, rows, services: {} };
    const more = await this.pool.query<{ total: number | null; services: Record<string, string> | null }>(
      `SELECT ${reached ? `(SELECT count(*)::int FROM ${this.s}.referral WHERE ${where})` : 'NULL::int'} AS total,
              (SELECT json_object_agg(h.id::text, h.name) FROM ${this.s}.healthcare_service h
                WHERE h.id = ANY($${(reached ? whereValues.length : 0) + 1}::bigint[])) AS services`,
      [...(reached ? whereValues : []), serviceIds],
    );
    return { total: more.rows[0]?.total ?? rows.length, rows, services: more.rows[0]?.services ?? {} };
  }
}

/**
 * The A008 statement (the test holds its plan to the index): a provider's referrals in `states`, optionally of
 * one priority or some services, by (updated_at, ubrn), at most `limit`, as WorklistRow<number> columns.
 */
export function worklistStatement(
  schema: string,
  providerOds: string,
  states: readonly string[],
  filters: { priority?: string; serviceIds?: string[]; limit: number },
): { text: string; values: unknown[]; where: string; whereValues: unknown[] } {
  const values: unknown[] = [providerOds, states];
  let where = `provider_ods = $1 AND state = ANY($2::text[])`;
  if (filters.priority) {
    values.push(filters.priority);
    where += ` AND priority = $${values.length}`;
  }
  if (filters.serviceIds?.length) {
    values.push(filters.serviceIds);
    where += ` AND service_id = ANY($${values.length}::bigint[])`;
  }
  const whereValues = [...values];
  values.push(filters.limit);
  const ms = (column: string): string => `floor(extract(epoch FROM ${column}) * 1000)::bigint`;
  return {
    text: `SELECT ubrn, version, priority, specialty, patient_nhs_number, service_id::text, state, ${ms('pathway_start')},
                  ${ms('created_at')}, ${ms('updated_at')}
             FROM ${schema}.referral WHERE ${where} ORDER BY updated_at, ubrn LIMIT $${values.length}`,
    values,
    where,
    whereValues,
  };
}
