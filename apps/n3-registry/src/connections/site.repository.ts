import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import type { CreateSiteRequest, Site } from '@platform/contracts-n3';
import type { ServiceDatabase } from '@platform/shared-persistence';
import { N3_DATABASE } from '../database/database';

type Db = Pool | PoolClient;

/** An organisation's sites. */
@Injectable()
export class SiteRepository {
  private readonly pool: Pool;
  private readonly schema: string;

  constructor(@Inject(N3_DATABASE) database: ServiceDatabase) {
    this.pool = database.pool;
    this.schema = `"${database.schema}"`;
  }

  async create(transaction: PoolClient, request: CreateSiteRequest): Promise<Site> {
    const result = await transaction.query<{ id: string }>(
      `INSERT INTO ${this.schema}.site (ods_code, name, address_lines, postcode) VALUES ($1, $2, $3, $4) RETURNING id`,
      [request.odsCode, request.name, request.addressLines, request.postcode ?? null],
    );
    return {
      id: (result.rows[0] as { id: string }).id,
      odsCode: request.odsCode,
      name: request.name,
      addressLines: request.addressLines,
      postcode: request.postcode ?? null,
    };
  }

  async list(odsCode: string, page: { limit: number; offset: number }, db: Db = this.pool): Promise<Site[]> {
    const result = await db.query<{
      id: string;
      ods_code: string;
      name: string;
      address_lines: string[];
      postcode: string | null;
    }>(
      `SELECT id, ods_code, name, address_lines, postcode FROM ${this.schema}.site WHERE ods_code = $1
       ORDER BY id LIMIT $2 OFFSET $3`,
      [odsCode, page.limit, page.offset],
    );
    return result.rows.map((row) => ({
      id: row.id,
      odsCode: row.ods_code,
      name: row.name,
      addressLines: row.address_lines,
      postcode: row.postcode,
    }));
  }

  async owner(siteId: string, db: Db = this.pool): Promise<string | null> {
    const result = await db.query<{ ods_code: string }>(`SELECT ods_code FROM ${this.schema}.site WHERE id = $1`, [
      siteId,
    ]);
    return result.rows[0]?.ods_code ?? null;
  }
}
