import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { PatientService } from '@platform/contracts-ers';
import { E_REFERRALS_DATABASE, type EReferralsDatabase } from '../database/database.provider';

/** How many sign-ins a UBRN gets before it is locked, and for how long. */
export const PATIENT_ACCESS_LIMITS = {
  attempts: 5,
  lockoutMinutes: 30,
  /** Attempts older than this (with no lock) are forgotten. */
  windowMinutes: 60,
  pendingSeconds: 120,
  sessionMinutes: 20,
} as const;

export interface PatientSession {
  ubrn: string;
  csrf: string;
  restricted: boolean;
}

export function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** The attempts, pending sign-ins and sessions of patients booking themselves, in PostgreSQL. */
@Injectable()
export class PatientAccessRepository {
  private readonly pool: Pool;
  private readonly s: string;

  constructor(@Inject(E_REFERRALS_DATABASE) database: EReferralsDatabase) {
    this.pool = database.pool;
    this.s = `"${database.schema}"`;
  }

  /**
   * Counts one attempt against the UBRN before anything is checked, in one statement that locks the row: of
   * any number of concurrent attempts, at most `attempts` are let through per window. The attempt that
   * reaches the limit sets the lock; a success (resetAttempts) clears both.
   */
  async takeAttempt(ubrn: string): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
    const { attempts, lockoutMinutes, windowMinutes } = PATIENT_ACCESS_LIMITS;
    const result = await this.pool.query<{ attempts: number; retry: number }>(
      `WITH taken AS (
         INSERT INTO ${this.s}.patient_access_attempt AS a (ubrn, attempts, last_attempt_at, locked_until)
         VALUES ($1, 1, now(), CASE WHEN $2::int <= 1 THEN now() + make_interval(mins => $3) END)
         ON CONFLICT (ubrn) DO UPDATE SET
           attempts = CASE WHEN a.locked_until <= now()
                             OR (a.locked_until IS NULL AND a.last_attempt_at < now() - make_interval(mins => $4))
                           THEN 1 ELSE a.attempts + 1 END,
           locked_until = CASE
             WHEN a.locked_until > now() THEN a.locked_until
             WHEN a.locked_until <= now()
               OR (a.locked_until IS NULL AND a.last_attempt_at < now() - make_interval(mins => $4)) THEN NULL
             WHEN a.attempts + 1 >= $2 THEN now() + make_interval(mins => $3)
             ELSE NULL END,
           last_attempt_at = now()
         RETURNING a.attempts, a.locked_until
       )
       SELECT attempts, coalesce(ceil(extract(epoch FROM locked_until - now())), 0)::int AS retry FROM taken`,
      [ubrn, attempts, lockoutMinutes, windowMinutes],
    );
    const row = result.rows[0];
    return { allowed: (row?.attempts ?? Infinity) <= attempts, retryAfterSeconds: Math.max(row?.retry ?? 0, 0) };
  }

  async resetAttempts(ubrn: string): Promise<void> {
    await this.pool.query(
      `UPDATE ${this.s}.patient_access_attempt SET attempts = 0, locked_until = NULL WHERE ubrn = $1`,
      [ubrn],
    );
  }

  /** The UBRN's referral, if it exists: its access code and NHS number (the caller compares them). */
  async referralCodes(ubrn: string): Promise<{ accessCode: string; nhsNumber: string } | undefined> {
    const result = await this.pool.query<{ access_code: string; patient_nhs_number: string }>(
      `SELECT access_code, patient_nhs_number FROM ${this.s}.referral WHERE ubrn = $1 AND request_kind = 'REFERRAL'`,
      [ubrn],
    );
    const row = result.rows[0];
    return row ? { accessCode: row.access_code, nhsNumber: row.patient_nhs_number } : undefined;
  }

  async createPending(ubrn: string): Promise<string> {
    const id = randomUUID();
    await this.pool.query(
      `INSERT INTO ${this.s}.patient_pending_sign_in (id, ubrn, expires_at)
       VALUES ($1, $2, now() + make_interval(secs => $3))`,
      [id, ubrn, PATIENT_ACCESS_LIMITS.pendingSeconds],
    );
    return id;
  }

  /** Takes a pending sign-in once: a second confirm of the same one finds nothing. */
  async takePending(id: string): Promise<string | undefined> {
    const result = await this.pool.query<{ ubrn: string; live: boolean }>(
      `DELETE FROM ${this.s}.patient_pending_sign_in WHERE id = $1 RETURNING ubrn, expires_at > now() AS live`,
      [id],
    );
    const row = result.rows[0];
    return row?.live ? row.ubrn : undefined;
  }

  /** A new session: the token goes to the patient, only its hash is kept. Expired sessions are cleared here. */
  async createSession(ubrn: string, restricted: boolean): Promise<{ token: string; csrf: string; expiresAt: string }> {
    const token = randomBytes(32).toString('base64url');
    const csrf = randomBytes(24).toString('base64url');
    const result = await this.pool.query<{ expires_at: Date }>(
      `WITH gone AS (DELETE FROM ${this.s}.patient_session WHERE expires_at < now() - interval '1 day')
       INSERT INTO ${this.s}.patient_session (token_hash, ubrn, csrf, restricted, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(mins => $5)) RETURNING expires_at`,
      [tokenHash(token), ubrn, csrf, restricted, PATIENT_ACCESS_LIMITS.sessionMinutes],
    );
    return { token, csrf, expiresAt: (result.rows[0]?.expires_at ?? new Date()).toISOString() };
  }

  async session(token: string): Promise<PatientSession | undefined> {
    const result = await this.pool.query<{ ubrn: string; csrf: string; restricted: boolean }>(
      `SELECT ubrn, csrf, restricted FROM ${this.s}.patient_session WHERE token_hash = $1 AND expires_at > now()`,
      [tokenHash(token)],
    );
    return result.rows[0];
  }

  async endSession(token: string): Promise<void> {
    await this.pool.query(`DELETE FROM ${this.s}.patient_session WHERE token_hash = $1`, [tokenHash(token)]);
  }

  /** The referral's shortlist as the patient sees it: distance from the referral's search postcode, wait. */
  async shortlist(ubrn: string, withDistance: boolean): Promise<PatientService[]> {
    const result = await this.pool.query<{
      id: string;
      name: string;
      wait: number;
      bookable: boolean;
      metres: number | null;
    }>(
      `SELECT h.id::text AS id, h.name, h.indicative_wait_days AS wait,
              (h.bookable_type = 'DIRECTLY_BOOKABLE' AND NOT h.triage AND h.active) AS bookable,
              CASE WHEN $2 THEN public.earth_distance(public.ll_to_earth(p.latitude, p.longitude),
                                                      public.ll_to_earth(h.latitude, h.longitude)) END AS metres
         FROM ${this.s}.referral_shortlist l
         JOIN ${this.s}.referral r ON r.ubrn = l.ubrn
         JOIN ${this.s}.healthcare_service h ON h.id = l.service_id
         LEFT JOIN ${this.s}.postcode p ON p.postcode = r.search_criteria->>'postcode'
        WHERE l.ubrn = $1 ORDER BY l.position`,
      [ubrn, withDistance],
    );
    return result.rows.map((row) => ({
      id: row.id,
      name: row.name,
      waitDays: row.wait,
      bookable: row.bookable,
      ...(row.metres === null ? {} : { distanceKm: Math.round(row.metres / 100) / 10 }),
    }));
  }

  /** A patient's read of their referral, in the same audit trail as every other read of it. */
  async auditRead(ubrn: string, action: string, requestId: string, correlationId?: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.s}.read_audit (ubrn, action, actor_id, organisation, business_function, request_id, correlation_id)
       VALUES ($1, $2, 'patient', NULL, NULL, $3, $4)`,
      [ubrn, action, requestId, correlationId ?? null],
    );
  }

  /** The slot's start and end (for the answer after booking). */
  async slotTimes(slotId: string): Promise<{ start: string; end: string } | undefined> {
    const result = await this.pool.query<{ start_at: Date; end_at: Date }>(
      `SELECT start_at, end_at FROM ${this.s}.slot WHERE id = $1`,
      [slotId],
    );
    const row = result.rows[0];
    return row ? { start: row.start_at.toISOString(), end: row.end_at.toISOString() } : undefined;
  }
}
