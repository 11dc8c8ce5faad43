import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import type { ServiceDatabase } from '@platform/shared-persistence';
import { EPS_DATABASE } from '../database/database';
import type { PrescriberPublicKey } from '../signing/key-fingerprint';

type Db = Pool | PoolClient;

/** A prescriber's key as stored: which prescriber, the key, and whether it was revoked. */
export interface StoredPrescriberKey extends PrescriberPublicKey {
  sdsUserId: string;
  revokedAt: Date | null;
}

/** One registration of a key, as the audit trail keeps it. */
export interface PrescriberKeyRegistration {
  sdsUserId: string;
  fingerprint: string;
  /** The key that was current before (null for a prescriber's first key). */
  previousFingerprint: string | null;
  registeredBy: string;
  registeredByOrganisation: string | null;
  requestId: string;
  registeredAt: string;
}

interface KeyRow {
  sds_user_id: string;
  fingerprint: string;
  public_key_pem: string;
  revoked_at: Date | null;
}

const keyOf = (row: KeyRow): StoredPrescriberKey => ({
  sdsUserId: row.sds_user_id,
  fingerprint: row.fingerprint,
  publicKeyPem: row.public_key_pem,
  revokedAt: row.revoked_at,
});

/**
 * The prescribers' public signing keys, by SDS user ID, in versions: every key a prescriber has had stays
 * (by fingerprint) so that a prescription verified with it can be verified with it again; the current key is
 * the one registered last. Each registration is recorded in `prescriber_key_registration`.
 */
@Injectable()
export class PrescriberKeyRepository {
  private readonly pool: Pool;
  private readonly schema: string;

  constructor(@Inject(EPS_DATABASE) database: ServiceDatabase) {
    this.pool = database.pool;
    this.schema = `"${database.schema}"`;
  }

  /**
   * Makes `key` the prescriber's current key, keeping the earlier ones, and records who did it. Registrations
   * of one prescriber's keys are serialised (a transaction-scoped advisory lock), so the order of the record
   * is the order in which they took effect. Answers the registration as recorded.
   */
  async register(
    transaction: PoolClient,
    sdsUserId: string,
    key: PrescriberPublicKey,
    by: { actor: string; actorOrganisation: string | null; requestId: string },
  ): Promise<PrescriberKeyRegistration> {
    await transaction.query(`SELECT pg_advisory_xact_lock(hashtextextended('eps.prescriber-key:' || $1, 0))`, [
      sdsUserId,
    ]);
    const previous = await this.current(sdsUserId, transaction);
    await transaction.query(
      `INSERT INTO ${this.schema}.prescriber_key (sds_user_id, fingerprint, public_key_pem, registered_by, request_id)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sds_user_id, fingerprint) DO NOTHING`,
      [sdsUserId, key.fingerprint, key.publicKeyPem, by.actor, by.requestId],
    );
    const recorded = await transaction.query<{ registered_at: Date }>(
      `INSERT INTO ${this.schema}.prescriber_key_registration
         (sds_user_id, fingerprint, previous_fingerprint, registered_by, registered_by_organisation, request_id)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING registered_at`,
      [sdsUserId, key.fingerprint, previous?.fingerprint ?? null, by.actor, by.actorOrganisation, by.requestId],
    );
    return {
      sdsUserId,
      fingerprint: key.fingerprint,
      previousFingerprint: previous?.fingerprint ?? null,
      registeredBy: by.actor,
      registeredByOrganisation: by.actorOrganisation,
      requestId: by.requestId,
      registeredAt: (recorded.rows[0] as { registered_at: Date }).registered_at.toISOString(),
    };
  }

  /** The prescriber's current key: the one registered last (which may have been revoked since). */
  async current(sdsUserId: string, db: Db = this.pool): Promise<StoredPrescriberKey | null> {
    const result = await db.query<KeyRow>(
      `SELECT k.sds_user_id, k.fingerprint, k.public_key_pem, k.revoked_at
       FROM ${this.schema}.prescriber_key_registration r
       JOIN ${this.schema}.prescriber_key k ON k.sds_user_id = r.sds_user_id AND k.fingerprint = r.fingerprint
       WHERE r.sds_user_id = $1 ORDER BY r.sequence DESC LIMIT 1`,
      [sdsUserId],
    );
    const row = result.rows[0];
    return row ? keyOf(row) : null;
  }

  /** One of the prescriber's keys, by fingerprint, current or not. */
  async byFingerprint(sdsUserId: string, fingerprint: string, db: Db = this.pool): Promise<StoredPrescriberKey | null> {
    const result = await db.query<KeyRow>(
      `SELECT sds_user_id, fingerprint, public_key_pem, revoked_at FROM ${this.schema}.prescriber_key
       WHERE sds_user_id = $1 AND fingerprint = $2`,
      [sdsUserId, fingerprint],
    );
    const row = result.rows[0];
    return row ? keyOf(row) : null;
  }
}
