import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { E_REFERRALS_DATABASE, type EReferralsDatabase } from '../database/database.provider';

/** A provider clinician the directory names (SDS user id and display name). */
export interface NamedClinician {
  sdsUserId: string;
  name: string | null;
}

/** Reads the provider clinicians an organisation names on its services (A040). */
@Injectable()
export class PractitionersRepository {
  private readonly pool: Pool;
  private readonly s: string;

  constructor(@Inject(E_REFERRALS_DATABASE) database: EReferralsDatabase) {
    this.pool = database.pool;
    this.s = `"${database.schema}"`;
  }

  /** The distinct named clinicians of the organisation's active services, by SDS user id. */
  async namedClinicians(odsCode: string, limit: number): Promise<NamedClinician[]> {
    const result = await this.pool.query<{ sds_user_id: string; name: string | null }>(
      `SELECT clinician->>'sdsUserId' AS sds_user_id, min(clinician->>'name') AS name
         FROM ${this.s}.healthcare_service, jsonb_array_elements(clinicians) AS clinician
        WHERE ods_code = $1 AND active AND clinician->>'sdsUserId' IS NOT NULL
        GROUP BY 1 ORDER BY 1 LIMIT $2`,
      [odsCode, limit],
    );
    return result.rows.map((row) => ({ sdsUserId: row.sds_user_id, name: row.name }));
  }

  /** Whether the organisation names this clinician on one of its active services (one A040 lists). */
  async isNamedClinician(odsCode: string, sdsUserId: string): Promise<boolean> {
    const result = await this.pool.query<{ named: boolean }>(
      `SELECT EXISTS (
         SELECT 1 FROM ${this.s}.healthcare_service
          WHERE ods_code = $1 AND active AND clinicians @> jsonb_build_array(jsonb_build_object('sdsUserId', $2::text))
       ) AS named`,
      [odsCode, sdsUserId],
    );
    return result.rows[0]?.named === true;
  }
}
