import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import type { FhirResource } from '@platform/contracts-ers';
import { E_REFERRALS_DATABASE, type EReferralsDatabase } from '../database/database.provider';
import type { Clinician, ServiceRecord } from './service-resource';

interface ServiceRow {
  id: string;
  version: number;
  ods_code: string;
  name: string;
  specialty: string;
  clinic_types: string[];
  priorities: string[];
  bookable_type: ServiceRecord['bookableType'];
  triage: boolean;
  postcode: string;
  indicative_wait_days: number;
  min_age_years: number | null;
  max_age_years: number | null;
  gender_treated: ServiceRecord['genderTreated'];
  clinicians: Clinician[];
  active: boolean;
}

const SERVICE_COLUMNS = `id::text AS id, version, ods_code, name, specialty, clinic_types, priorities, bookable_type,
  triage, postcode, indicative_wait_days, min_age_years, max_age_years, gender_treated, clinicians, active`;

function toService(row: ServiceRow): ServiceRecord {
  return {
    id: row.id,
    version: row.version,
    odsCode: row.ods_code,
    name: row.name,
    specialty: row.specialty,
    clinicTypes: row.clinic_types,
    priorities: row.priorities,
    bookableType: row.bookable_type,
    triage: row.triage,
    postcode: row.postcode,
    indicativeWaitDays: row.indicative_wait_days,
    minAgeYears: row.min_age_years,
    maxAgeYears: row.max_age_years,
    genderTreated: row.gender_treated,
    clinicians: row.clinicians,
    active: row.active,
  };
}

export interface ServiceSearch {
  specialty?: string;
  clinicType?: string;
  priority?: string;
  /** A postcode (normalised) and radius in metres: only services within it, nearest first. */
  near?: { postcode: string; metres: number };
  maxWaitDays?: number;
  /** Age and gender appropriateness for the patient. */
  patientAgeYears?: number;
  patientGender?: 'MALE' | 'FEMALE';
  limit: number;
}

export interface SlotRecord {
  id: string;
  scheduleId: string;
  serviceId: string;
  start: string;
  end: string;
  status: 'free' | 'busy';
}

export interface NewSlot {
  id?: string;
  start: string;
  end: string;
  appointmentType: string;
}

/** A timestamptz as JavaScript's toISOString writes it (UTC, milliseconds, Z), made in SQL for JSON answers. */
function ISO(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** The only code that reads and writes the directory: postcodes, services, schedules and slots. */
@Injectable()
export class DirectoryRepository {
  private readonly pool: Pool;
  private readonly s: string;

  constructor(@Inject(E_REFERRALS_DATABASE) database: EReferralsDatabase) {
    this.pool = database.pool;
    this.s = `"${database.schema}"`;
  }

  async postcode(postcode: string): Promise<{ latitude: number; longitude: number } | undefined> {
    const result = await this.pool.query<{ latitude: number; longitude: number }>(
      `SELECT latitude, longitude FROM ${this.s}.postcode WHERE postcode = $1`,
      [postcode],
    );
    return result.rows[0];
  }

  /** Loads postcodes (idempotent: a postcode already known keeps its first position). */
  async loadPostcodes(
    rows: { postcode: string; latitude: number; longitude: number }[],
    db: Pool | PoolClient = this.pool,
  ): Promise<number> {
    if (rows.length === 0) return 0;
    const result = await db.query(
      `INSERT INTO ${this.s}.postcode (postcode, latitude, longitude, position)
       SELECT p, lat, lon, public.ll_to_earth(lat, lon)
         FROM unnest($1::text[], $2::float8[], $3::float8[]) AS t(p, lat, lon)
       ON CONFLICT (postcode) DO NOTHING`,
      [rows.map((row) => row.postcode), rows.map((row) => row.latitude), rows.map((row) => row.longitude)],
    );
    return result.rowCount ?? 0;
  }

  /** Locks the service row (if it exists) for a publish in this transaction. */
  async lockService(transaction: PoolClient, id: string): Promise<ServiceRecord | undefined> {
    const result = await transaction.query<ServiceRow>(
      `SELECT ${SERVICE_COLUMNS} FROM ${this.s}.healthcare_service WHERE id = $1 FOR UPDATE`,
      [id],
    );
    const row = result.rows[0];
    return row ? toService(row) : undefined;
  }

  /** Inserts or replaces a service at `service.version`, keeping the published resource as that version. */
  async saveService(
    transaction: PoolClient,
    service: ServiceRecord,
    resource: FhirResource,
    publishedBy: string,
  ): Promise<void> {
    const inserted = await transaction.query(
      `INSERT INTO ${this.s}.healthcare_service (id, version, ods_code, name, specialty, clinic_types, priorities,
         bookable_type, triage, postcode, latitude, longitude, position, indicative_wait_days, min_age_years,
         max_age_years, gender_treated, clinicians, active, resource, updated_at)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, p.latitude, p.longitude, p.position, $11, $12, $13, $14, $15,
         $16, $17, now()
         FROM ${this.s}.postcode p WHERE p.postcode = $10
       ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, ods_code = EXCLUDED.ods_code, name = EXCLUDED.name,
         specialty = EXCLUDED.specialty, clinic_types = EXCLUDED.clinic_types, priorities = EXCLUDED.priorities,
         bookable_type = EXCLUDED.bookable_type, triage = EXCLUDED.triage, postcode = EXCLUDED.postcode,
         latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude, position = EXCLUDED.position,
         indicative_wait_days = EXCLUDED.indicative_wait_days, min_age_years = EXCLUDED.min_age_years,
         max_age_years = EXCLUDED.max_age_years, gender_treated = EXCLUDED.gender_treated,
         clinicians = EXCLUDED.clinicians, active = EXCLUDED.active, resource = EXCLUDED.resource, updated_at = now()`,
      [
        service.id,
        service.version,
        service.odsCode,
        service.name,
        service.specialty,
        service.clinicTypes,
        service.priorities,
        service.bookableType,
        service.triage,
        service.postcode,
        service.indicativeWaitDays,
        service.minAgeYears,
        service.maxAgeYears,
        service.genderTreated,
        JSON.stringify(service.clinicians),
        service.active,
        JSON.stringify(resource),
      ],
    );
    if (inserted.rowCount === 0) throw new Error('postcode vanished');
    await transaction.query(
      `INSERT INTO ${this.s}.healthcare_service_version (service_id, version, resource, published_by) VALUES ($1, $2, $3, $4)`,
      [service.id, service.version, JSON.stringify(resource), publishedBy],
    );
  }

  async service(id: string, db: Pool | PoolClient = this.pool): Promise<ServiceRecord | undefined> {
    if (!/^[0-9]{1,12}$/.test(id)) return undefined;
    const result = await db.query<ServiceRow>(
      `SELECT ${SERVICE_COLUMNS} FROM ${this.s}.healthcare_service WHERE id = $1`,
      [id],
    );
    const row = result.rows[0];
    return row ? toService(row) : undefined;
  }

  async services(ids: string[], db: Pool | PoolClient = this.pool): Promise<ServiceRecord[]> {
    const valid = ids.filter((id) => /^[0-9]{1,12}$/.test(id));
    if (valid.length === 0) return [];
    const result = await db.query<ServiceRow>(
      `SELECT ${SERVICE_COLUMNS} FROM ${this.s}.healthcare_service WHERE id = ANY($1::bigint[]) ORDER BY id`,
      [valid],
    );
    return result.rows.map(toService);
  }

  async serviceVersion(id: string, version: number): Promise<FhirResource | undefined> {
    if (!/^[0-9]{1,12}$/.test(id)) return undefined;
    const result = await this.pool.query<{ resource: FhirResource }>(
      `SELECT resource FROM ${this.s}.healthcare_service_version WHERE service_id = $1 AND version = $2`,
      [id, version],
    );
    return result.rows[0]?.resource;
  }

  /**
   * A010: active services matching the criteria, nearest first when a postcode is given (earthdistance, GiST),
   * in one statement with the postcode's position: `postcodeKnown` is false (and no services) when the postcode
   * is not in the postcode table.
   */
  async search(
    criteria: ServiceSearch,
  ): Promise<{ postcodeKnown: boolean; services: (ServiceRecord & { distanceMetres: number | null })[] }> {
    const where = ['active'];
    const values: unknown[] = [];
    const add = (value: unknown): string => {
      values.push(value);
      return `$${values.length}`;
    };
    if (criteria.specialty) where.push(`specialty = ${add(criteria.specialty)}`);
    if (criteria.clinicType) where.push(`${add(criteria.clinicType)} = ANY(clinic_types)`);
    if (criteria.priority) where.push(`${add(criteria.priority)} = ANY(priorities)`);
    if (criteria.maxWaitDays !== undefined) where.push(`indicative_wait_days <= ${add(criteria.maxWaitDays)}`);
    if (criteria.patientAgeYears !== undefined) {
      const age = add(criteria.patientAgeYears);
      where.push(
        `(min_age_years IS NULL OR min_age_years <= ${age}) AND (max_age_years IS NULL OR max_age_years >= ${age})`,
      );
    }
    if (criteria.patientGender) where.push(`gender_treated IN ('MALE_AND_FEMALE', ${add(criteria.patientGender)})`);
    type Row = ServiceRow & { distance_metres: number | null };
    if (!criteria.near) {
      const result = await this.pool.query<Row>(
        `SELECT ${SERVICE_COLUMNS}, NULL::float8 AS distance_metres FROM ${this.s}.healthcare_service
          WHERE ${where.join(' AND ')} ORDER BY indicative_wait_days, id LIMIT ${add(criteria.limit)}`,
        values,
      );
      return { postcodeKnown: true, services: result.rows.map((row) => ({ ...toService(row), distanceMetres: null })) };
    }
    const postcode = add(criteria.near.postcode);
    const metres = add(criteria.near.metres);
    where.push(`public.earth_box(centre.position, ${metres}) @> h.position`);
    where.push(`public.earth_distance(centre.position, h.position) <= ${metres}`);
    // No row: the postcode is unknown; one row of NULLs: known, and nothing matches.
    const result = await this.pool.query<Partial<Row>>(
      `SELECT found.* FROM ${this.s}.postcode centre
         LEFT JOIN LATERAL (
           SELECT ${SERVICE_COLUMNS}, public.earth_distance(centre.position, h.position) AS distance_metres
             FROM ${this.s}.healthcare_service h
            WHERE ${where.join(' AND ')}
            ORDER BY distance_metres, id LIMIT ${add(criteria.limit)}
         ) found ON true
        WHERE centre.postcode = ${postcode}`,
      values,
    );
    return {
      postcodeKnown: result.rows.length > 0,
      services: result.rows
        .filter((row): row is Row => row.id !== null && row.id !== undefined)
        .map((row) => ({ ...toService(row), distanceMetres: row.distance_metres })),
    };
  }

  /** Creates or replaces a schedule of a service. */
  async saveSchedule(
    transaction: PoolClient,
    schedule: { id: string; serviceId: string; clinician: string | null; resource: FhirResource },
  ): Promise<void> {
    await transaction.query(
      `INSERT INTO ${this.s}.schedule (id, service_id, clinician, resource) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET clinician = EXCLUDED.clinician, resource = EXCLUDED.resource
       WHERE ${this.s}.schedule.service_id = EXCLUDED.service_id`,
      [schedule.id, schedule.serviceId, schedule.clinician, JSON.stringify(schedule.resource)],
    );
  }

  async scheduleService(transaction: PoolClient, scheduleId: string): Promise<string | undefined> {
    const result = await transaction.query<{ service_id: string }>(
      `SELECT service_id::text AS service_id FROM ${this.s}.schedule WHERE id = $1`,
      [scheduleId],
    );
    return result.rows[0]?.service_id;
  }

  /** Inserts many slots in one statement; answers their ids in order. */
  async insertSlots(
    transaction: PoolClient,
    scheduleId: string,
    serviceId: string,
    slots: NewSlot[],
  ): Promise<string[]> {
    const result = await transaction.query<{ id: string }>(
      `INSERT INTO ${this.s}.slot (id, schedule_id, service_id, start_at, end_at, appointment_type)
       SELECT coalesce(t.id, nextval('${this.s}.slot_id')), $1, $2, t.start_at, t.end_at, t.kind
         FROM unnest($3::bigint[], $4::timestamptz[], $5::timestamptz[], $6::text[]) WITH ORDINALITY
           AS t(id, start_at, end_at, kind, n)
        ORDER BY t.n
       RETURNING id::text AS id`,
      [
        scheduleId,
        serviceId,
        slots.map((slot) => slot.id ?? null),
        slots.map((slot) => slot.start),
        slots.map((slot) => slot.end),
        slots.map((slot) => slot.appointmentType),
      ],
    );
    return result.rows.map((row) => row.id);
  }

  /**
   * A015: a page of a service's free future slots, how many there are and whether the service exists, in one
   * statement (the partial index of free slots by service and start answers both the count and the page).
   */
  async freeSlots(
    serviceId: string,
    page: { offset: number; limit: number; appointmentType?: string; from: Date },
  ): Promise<{ serviceExists: boolean; total: number; slots: SlotRecord[] }> {
    const kind = page.appointmentType ?? null;
    const free = `FROM ${this.s}.slot WHERE service_id = $1::bigint AND status = 'free' AND start_at >= $2
       AND ($3::text IS NULL OR appointment_type = $3)`;
    const result = await this.pool.query<{
      service_exists: boolean;
      total: number;
      slots: [id: string, scheduleId: string, start: string, end: string][];
    }>(
      `SELECT EXISTS (SELECT 1 FROM ${this.s}.healthcare_service WHERE id = $1::bigint) AS service_exists,
              (SELECT count(*)::int ${free}) AS total,
              (SELECT coalesce(json_agg(json_build_array(p.id::text, p.schedule_id, ${ISO('p.start_at')}, ${ISO('p.end_at')})
                        ORDER BY p.start_at, p.id), '[]')
                 FROM (SELECT id, schedule_id, start_at, end_at ${free} ORDER BY start_at, id OFFSET $4 LIMIT $5) p) AS slots`,
      [serviceId, page.from, kind, page.offset, page.limit],
    );
    const row = result.rows[0];
    return {
      serviceExists: row?.service_exists ?? false,
      total: row?.total ?? 0,
      slots: (row?.slots ?? []).map(([id, scheduleId, start, end]) => ({
        id,
        scheduleId,
        serviceId,
        start,
        end,
        status: 'free',
      })),
    };
  }

  async hasFreeSlot(transaction: PoolClient, serviceId: string): Promise<boolean> {
    const result = await transaction.query(
      `SELECT 1 FROM ${this.s}.slot WHERE service_id = $1 AND status = 'free' AND start_at > now() LIMIT 1`,
      [serviceId],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async slot(transaction: PoolClient, slotId: string): Promise<SlotRecord | undefined> {
    if (!/^[0-9]{1,15}$/.test(slotId)) return undefined;
    const result = await transaction.query<{
      id: string;
      schedule_id: string;
      service_id: string;
      start_at: Date;
      end_at: Date;
      status: 'free' | 'busy';
    }>(
      `SELECT id::text AS id, schedule_id, service_id::text AS service_id, start_at, end_at, status
         FROM ${this.s}.slot WHERE id = $1`,
      [slotId],
    );
    const row = result.rows[0];
    return row
      ? {
          id: row.id,
          scheduleId: row.schedule_id,
          serviceId: row.service_id,
          start: row.start_at.toISOString(),
          end: row.end_at.toISOString(),
          status: row.status,
        }
      : undefined;
  }

  /**
   * Takes a free slot: a conditional UPDATE, so of any number of concurrent bookers exactly one sees a row (the
   * others wait for its transaction and then find the slot busy). The appointment's unique index is the backstop.
   */
  async takeSlot(transaction: PoolClient, slotId: string): Promise<boolean> {
    const result = await transaction.query(
      `UPDATE ${this.s}.slot SET status = 'busy' WHERE id = $1 AND status = 'free'`,
      [slotId],
    );
    return result.rowCount === 1;
  }

  async releaseSlot(transaction: PoolClient, slotId: string): Promise<void> {
    await transaction.query(`UPDATE ${this.s}.slot SET status = 'free' WHERE id = $1`, [slotId]);
  }
}
