import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import type {
  Connection,
  ConnectionStatus,
  CreateConnectionRequest,
  IpAllocation,
  ListConnectionsRequest,
  Page,
} from '@platform/contracts-n3';
import type { ServiceDatabase } from '@platform/shared-persistence';
import { N3_DATABASE } from '../database/database';
import { ALLOCATION_COLUMNS, allocationOf, type AllocationRow } from './ip-allocation.repository';

type Db = Pool | PoolClient;

interface ConnectionRow {
  id: string;
  ods_code: string;
  site_id: string | null;
  supplier: string;
  bandwidth_mbps: number;
  access_type: Connection['accessType'];
  availability_target: string;
  contract_start: string;
  contract_end: string | null;
  status: ConnectionStatus;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const CONNECTION_COLUMNS = `id, ods_code, site_id, supplier, bandwidth_mbps, access_type, availability_target,
  to_char(contract_start, 'YYYY-MM-DD') AS contract_start, to_char(contract_end, 'YYYY-MM-DD') AS contract_end,
  status, version, created_at, updated_at`;

function connectionOf(row: ConnectionRow, allocations: IpAllocation[]): Connection {
  return {
    id: row.id,
    odsCode: row.ods_code,
    siteId: row.site_id,
    supplier: row.supplier,
    bandwidthMbps: row.bandwidth_mbps,
    accessType: row.access_type,
    availabilityTarget: Number(row.availability_target),
    contractStart: row.contract_start,
    contractEnd: row.contract_end,
    status: row.status,
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    allocations,
  };
}

/** Connections: ordered, read (with the blocks they hold), listed, locked and moved through their lifecycle. */
@Injectable()
export class ConnectionRepository {
  private readonly pool: Pool;
  private readonly schema: string;

  constructor(@Inject(N3_DATABASE) database: ServiceDatabase) {
    this.pool = database.pool;
    this.schema = `"${database.schema}"`;
  }

  async create(transaction: PoolClient, request: CreateConnectionRequest): Promise<string> {
    const result = await transaction.query<{ id: string }>(
      `INSERT INTO ${this.schema}.connection
         (ods_code, site_id, supplier, bandwidth_mbps, access_type, availability_target, contract_start, contract_end, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'ordered') RETURNING id`,
      [
        request.odsCode,
        request.siteId ?? null,
        request.supplier,
        request.bandwidthMbps,
        request.accessType,
        request.availabilityTarget,
        request.contractStart,
        request.contractEnd ?? null,
      ],
    );
    return (result.rows[0] as { id: string }).id;
  }

  async get(id: string, db: Db = this.pool): Promise<Connection | null> {
    const result = await db.query<ConnectionRow>(
      `SELECT ${CONNECTION_COLUMNS} FROM ${this.schema}.connection WHERE id = $1`,
      [id],
    );
    const row = result.rows[0];
    if (!row) return null;
    return connectionOf(row, await this.heldBlocks([id], db).then((held) => held.get(id) ?? []));
  }

  /** The connection's status and version, locked until the transaction ends (changes queue behind each other). */
  async lock(
    transaction: PoolClient,
    id: string,
  ): Promise<{ status: ConnectionStatus; version: number; odsCode: string } | null> {
    const result = await transaction.query<{ status: ConnectionStatus; version: number; ods_code: string }>(
      `SELECT status, version, ods_code FROM ${this.schema}.connection WHERE id = $1 FOR UPDATE`,
      [id],
    );
    const row = result.rows[0];
    return row ? { status: row.status, version: row.version, odsCode: row.ods_code } : null;
  }

  async setStatus(transaction: PoolClient, id: string, status: ConnectionStatus): Promise<number> {
    const result = await transaction.query<{ version: number }>(
      `UPDATE ${this.schema}.connection SET status = $2, version = version + 1, updated_at = now() WHERE id = $1 RETURNING version`,
      [id, status],
    );
    return (result.rows[0] as { version: number }).version;
  }

  async list(request: ListConnectionsRequest & { odsCode?: string }): Promise<Page<Connection>> {
    const where: string[] = [];
    const values: unknown[] = [];
    if (request.odsCode) {
      values.push(request.odsCode);
      where.push(`ods_code = $${values.length}`);
    }
    if (request.status) {
      values.push(request.status);
      where.push(`status = $${values.length}`);
    }
    if (request.supplier) {
      values.push(request.supplier);
      where.push(`supplier = $${values.length}`);
    }
    values.push(request.limit + 1, request.offset);
    const result = await this.pool.query<ConnectionRow>(
      `SELECT ${CONNECTION_COLUMNS} FROM ${this.schema}.connection
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY id LIMIT $${values.length - 1} OFFSET $${values.length}`,
      values,
    );
    const rows = result.rows.slice(0, request.limit);
    const held = await this.heldBlocks(rows.map((row) => row.id));
    const items = rows.map((row) => connectionOf(row, held.get(row.id) ?? []));
    return result.rows.length > request.limit ? { items, nextOffset: request.offset + request.limit } : { items };
  }

  private async heldBlocks(ids: string[], db: Db = this.pool): Promise<Map<string, IpAllocation[]>> {
    const held = new Map<string, IpAllocation[]>();
    if (ids.length === 0) return held;
    const result = await db.query<AllocationRow>(
      `SELECT ${ALLOCATION_COLUMNS} FROM ${this.schema}.ip_allocation
       WHERE connection_id = ANY($1::text[]) AND released_at IS NULL ORDER BY block`,
      [ids],
    );
    for (const row of result.rows) {
      const list = held.get(row.connection_id) ?? [];
      list.push(allocationOf(row));
      held.set(row.connection_id, list);
    }
    return held;
  }
}
