import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import type { ServiceDatabase } from '@platform/shared-persistence';
import { EPS_DATABASE } from '../database/database';

/** The prescribers' public signing keys, by SDS user ID. */
@Injectable()
export class PrescriberKeyRepository {
  private readonly pool: Pool;
  private readonly schema: string;

  constructor(@Inject(EPS_DATABASE) database: ServiceDatabase) {
    this.pool = database.pool;
    this.schema = `"${database.schema}"`;
  }

  async register(sdsUserId: string, publicKeyPem: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.schema}.prescriber_key (sds_user_id, public_key_pem) VALUES ($1, $2)
       ON CONFLICT (sds_user_id) DO UPDATE SET public_key_pem = EXCLUDED.public_key_pem, registered_at = now()`,
      [sdsUserId, publicKeyPem],
    );
  }

  async publicKey(sdsUserId: string, db: Pool | PoolClient = this.pool): Promise<string | null> {
    const result = await db.query<{ public_key_pem: string }>(
      `SELECT public_key_pem FROM ${this.schema}.prescriber_key WHERE sds_user_id = $1`,
      [sdsUserId],
    );
    return result.rows[0]?.public_key_pem ?? null;
  }
}
