import { Inject, Injectable } from '@nestjs/common';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Pool, PoolClient } from 'pg';
import {
  ORGANISATION_ROLES,
  type Organisation,
  type OrganisationRole,
  type OrganisationStatus,
  type Page,
  type SearchOrganisationsRequest,
  type UpsertOrganisationRequest,
} from '@platform/contracts-n3';
import { copyArray, copyField, type ServiceDatabase } from '@platform/shared-persistence';
import { N3_DATABASE } from '../database/database';

interface OrganisationDbRow {
  ods_code: string;
  name: string;
  role: OrganisationRole;
  status: Organisation['status'];
  open_date: string | null;
  close_date: string | null;
  address_lines: string[];
  postcode: string | null;
  parent_ods_code: string | null;
  telephone: string | null;
  gp_connect_endpoint: string | null;
  updated_at: Date;
}

const COLUMNS = `ods_code, name, role, status, to_char(open_date, 'YYYY-MM-DD') AS open_date,
  to_char(close_date, 'YYYY-MM-DD') AS close_date, address_lines, postcode, parent_ods_code, telephone, gp_connect_endpoint, updated_at`;
const WRITE_COLUMNS = [
  'ods_code',
  'name',
  'role',
  'status',
  'open_date',
  'close_date',
  'address_lines',
  'postcode',
  'parent_ods_code',
  'telephone',
] as const;

export function organisationOf(row: OrganisationDbRow): Organisation {
  return {
    odsCode: row.ods_code,
    name: row.name,
    role: row.role,
    odsRoleCode: ORGANISATION_ROLES[row.role]?.odsRoleCode ?? null,
    status: row.status,
    openDate: row.open_date,
    closeDate: row.close_date,
    addressLines: row.address_lines,
    postcode: row.postcode,
    parentOdsCode: row.parent_ods_code,
    telephone: row.telephone,
    gpConnectEndpoint: row.gp_connect_endpoint,
    updatedAt: row.updated_at.toISOString(),
  };
}

/** One organisation as an ODS extract gives it, checked: what an import writes. */
export interface OrganisationRow {
  odsCode: string;
  name: string;
  role: OrganisationRole;
  status: OrganisationStatus;
  openDate: string;
  closeDate: string | null;
  addressLines: string[];
  postcode: string | null;
  parentOdsCode: string | null;
  telephone: string | null;
}

/** Escapes LIKE's wildcards in text a caller typed. */
function literal(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&');
}

/** The registry's organisation directory (ODS codes), which both features read: organisations and connections. */
@Injectable()
export class OrganisationRepository {
  private readonly pool: Pool;
  private readonly table: string;

  constructor(@Inject(N3_DATABASE) private readonly database: ServiceDatabase) {
    this.pool = database.pool;
    this.table = `"${database.schema}".organisation`;
  }

  async get(odsCode: string, client: Pool | PoolClient = this.pool): Promise<Organisation | null> {
    const result = await client.query<OrganisationDbRow>({
      name: `n3-organisation-get-${this.database.schema}`,
      text: `SELECT ${COLUMNS} FROM ${this.table} WHERE ods_code = $1`,
      values: [odsCode],
    });
    const row = result.rows[0];
    return row ? organisationOf(row) : null;
  }

  /** Name words (any order, each a substring, trigram-indexed), postcode prefix, role, status; best name match first. */
  async search(request: SearchOrganisationsRequest): Promise<Page<Organisation>> {
    const where: string[] = [];
    const values: unknown[] = [];
    const words = (request.name ?? '').toUpperCase().split(/\s+/).filter(Boolean);
    for (const word of words) {
      values.push(`%${literal(word)}%`);
      where.push(`name_key LIKE $${values.length}`);
    }
    if (request.postcode) {
      values.push(`${literal(request.postcode.toUpperCase().replace(/\s+/g, ''))}%`);
      where.push(`postcode_key LIKE $${values.length}`);
    }
    if (request.role) {
      values.push(request.role);
      where.push(`role = $${values.length}`);
    }
    if (request.status) {
      values.push(request.status);
      where.push(`status = $${values.length}`);
    }
    let order = 'name_key, ods_code';
    if (words.length > 0) {
      values.push(words.join(' '));
      order = `public.similarity(name_key, $${values.length}::text) DESC, ${order}`;
    }
    values.push(request.limit + 1, request.offset);
    const result = await this.pool.query<OrganisationDbRow>(
      `SELECT ${COLUMNS} FROM ${this.table}
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY ${order}
       LIMIT $${values.length - 1} OFFSET $${values.length}`,
      values,
    );
    const items = result.rows.slice(0, request.limit).map(organisationOf);
    return result.rows.length > request.limit ? { items, nextOffset: request.offset + request.limit } : { items };
  }

  async upsert(transaction: PoolClient, organisation: Required<UpsertOrganisationRequest>): Promise<Organisation> {
    // The GP Connect endpoint is written here only: ODS extracts (importRows) do not carry it and leave it be.
    const columns = [...WRITE_COLUMNS, 'gp_connect_endpoint'];
    const result = await transaction.query<OrganisationDbRow>(
      `INSERT INTO ${this.table} (${columns.join(', ')}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (ods_code) DO UPDATE SET ${columns
         .slice(1)
         .map((column) => `${column} = EXCLUDED.${column}`)
         .join(', ')}, updated_at = now()
       RETURNING ${COLUMNS}`,
      [
        organisation.odsCode,
        organisation.name,
        organisation.role,
        organisation.status,
        organisation.openDate,
        organisation.closeDate,
        organisation.addressLines,
        organisation.postcode,
        organisation.parentOdsCode,
        organisation.telephone,
        organisation.gpConnectEndpoint,
      ],
    );
    return organisationOf(result.rows[0]);
  }

  /**
   * Loads an extract's rows in the caller's transaction: COPY into a temporary table, then one upsert, so
   * 50,000 organisations take seconds and a failure leaves nothing behind.
   */
  async importRows(transaction: PoolClient, rows: OrganisationRow[]): Promise<{ inserted: number; updated: number }> {
    await transaction.query(
      `CREATE TEMPORARY TABLE organisation_import (LIKE ${this.table} INCLUDING DEFAULTS) ON COMMIT DROP`,
    );
    const lines = rows.map(
      (row) =>
        [
          row.odsCode,
          copyField(row.name),
          row.role,
          row.status,
          row.openDate,
          copyField(row.closeDate),
          copyArray(row.addressLines),
          copyField(row.postcode),
          copyField(row.parentOdsCode),
          copyField(row.telephone),
        ].join('\t') + '\n',
    );
    await pipeline(
      Readable.from(lines),
      transaction.query(copyFrom(`COPY organisation_import (${WRITE_COLUMNS.join(', ')}) FROM STDIN`)),
    );
    const result = await transaction.query<{ inserted: number; updated: number }>(
      `WITH upserted AS (
         INSERT INTO ${this.table} (${WRITE_COLUMNS.join(', ')})
         SELECT ${WRITE_COLUMNS.join(', ')} FROM organisation_import
         ON CONFLICT (ods_code) DO UPDATE SET ${WRITE_COLUMNS.slice(1)
           .map((column) => `${column} = EXCLUDED.${column}`)
           .join(', ')}, updated_at = now()
         RETURNING (xmax = 0) AS inserted
       )
       SELECT count(*) FILTER (WHERE inserted)::int AS inserted, count(*) FILTER (WHERE NOT inserted)::int AS updated
       FROM upserted`,
    );
    return result.rows[0] ?? { inserted: 0, updated: 0 };
  }
}
