import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import type {
  Connection,
  ConnectionEvent,
  ConnectionStatus,
  CreateConnectionRequest,
  CreateSiteRequest,
  IpAllocation,
  ListConnectionsRequest,
  Page,
  Site,
} from '@platform/contracts-n3';
import type { ServiceDatabase } from '@platform/shared-persistence';
import { N3_DATABASE } from '../database/database';

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

interface AllocationRow {
  id: string;
  connection_id: string;
  cidr: string;
  purpose: string | null;
  allocated_at: Date;
  released_at: Date | null;
}

const CONNECTION_COLUMNS = `id, ods_code, site_id, supplier, bandwidth_mbps, access_type, availability_target,
  to_char(contract_start, 'YYYY-MM-DD') AS contract_start, to_char(contract_end, 'YYYY-MM-DD') AS contract_end,
  status, version, created_at, updated_at`;
const ALLOCATION_COLUMNS = 'id, connection_id, block::text AS cidr, purpose, allocated_at, released_at';

function allocationOf(row: AllocationRow): IpAllocation {
  return {
    id: row.id,
    connectionId: row.connection_id,
    cidr: row.cidr,
    purpose: row.purpose,
    allocatedAt: row.allocated_at.toISOString(),
    releasedAt: row.released_at?.toISOString() ?? null,
  };
}

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

/** A history entry to write: what `ConnectionEvent` reads back, before the database numbers and dates it. */
export type EventRecord = Omit<ConnectionEvent, 'sequence' | 'at'>;

/** Sites, connections, their history and their IP blocks. */
@Injectable()
export class ConnectionRepository {
  private readonly pool: Pool;
  private readonly schema: string;

  constructor(@Inject(N3_DATABASE) database: ServiceDatabase) {
    this.pool = database.pool;
    this.schema = `"${database.schema}"`;
  }

  async createSite(transaction: PoolClient, request: CreateSiteRequest): Promise<Site> {
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

  async sites(odsCode: string, db: Db = this.pool): Promise<Site[]> {
    const result = await db.query<{
      id: string;
      ods_code: string;
      name: string;
      address_lines: string[];
      postcode: string | null;
    }>(`SELECT id, ods_code, name, address_lines, postcode FROM ${this.schema}.site WHERE ods_code = $1 ORDER BY id`, [
      odsCode,
    ]);
    return result.rows.map((row) => ({
      id: row.id,
      odsCode: row.ods_code,
      name: row.name,
      addressLines: row.address_lines,
      postcode: row.postcode,
    }));
  }

  async siteOwner(siteId: string, db: Db = this.pool): Promise<string | null> {
    const result = await db.query<{ ods_code: string }>(`SELECT ods_code FROM ${this.schema}.site WHERE id = $1`, [
      siteId,
    ]);
    return result.rows[0]?.ods_code ?? null;
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

  async appendEvent(transaction: PoolClient, event: EventRecord): Promise<void> {
    await transaction.query(
      `INSERT INTO ${this.schema}.connection_event
         (connection_id, kind, from_status, to_status, detail, actor, actor_organisation, request_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        event.connectionId,
        event.kind,
        event.fromStatus,
        event.toStatus,
        event.detail,
        event.actor,
        event.actorOrganisation,
        event.requestId,
      ],
    );
  }

  async history(id: string): Promise<ConnectionEvent[]> {
    const result = await this.pool.query<{
      sequence: string;
      connection_id: string;
      kind: string;
      from_status: ConnectionStatus | null;
      to_status: ConnectionStatus | null;
      detail: string | null;
      actor: string;
      actor_organisation: string | null;
      request_id: string;
      at: Date;
    }>(`SELECT * FROM ${this.schema}.connection_event WHERE connection_id = $1 ORDER BY sequence`, [id]);
    return result.rows.map((row) => ({
      sequence: Number(row.sequence),
      connectionId: row.connection_id,
      kind: row.kind,
      fromStatus: row.from_status,
      toStatus: row.to_status,
      detail: row.detail,
      actor: row.actor,
      actorOrganisation: row.actor_organisation,
      requestId: row.request_id,
      at: row.at.toISOString(),
    }));
  }

  /** Inserts a block; the exclusion constraint refuses it (SQLSTATE 23P01) if another connection holds an overlap. */
  async allocate(
    transaction: PoolClient,
    connectionId: string,
    cidr: string,
    purpose: string | null,
  ): Promise<IpAllocation> {
    const result = await transaction.query<AllocationRow>(
      `INSERT INTO ${this.schema}.ip_allocation (connection_id, block, purpose) VALUES ($1, $2::cidr, $3)
       RETURNING ${ALLOCATION_COLUMNS}`,
      [connectionId, cidr, purpose],
    );
    return allocationOf(result.rows[0]);
  }

  /** Who holds a block overlapping `cidr` now, other than `connectionId` (read after a refused insert). */
  async overlapping(
    cidr: string,
    connectionId: string,
  ): Promise<{
    allocationId: string;
    cidr: string;
    connectionId: string;
    odsCode: string;
    status: ConnectionStatus;
  } | null> {
    const result = await this.pool.query<{
      id: string;
      cidr: string;
      connection_id: string;
      ods_code: string;
      status: ConnectionStatus;
    }>(
      `SELECT a.id, a.block::text AS cidr, a.connection_id, c.ods_code, c.status
       FROM ${this.schema}.ip_allocation a JOIN ${this.schema}.connection c ON c.id = a.connection_id
       WHERE a.block && $1::cidr AND a.released_at IS NULL AND a.connection_id <> $2
       ORDER BY masklen(a.block) LIMIT 1`,
      [cidr, connectionId],
    );
    const row = result.rows[0];
    return row
      ? {
          allocationId: row.id,
          cidr: row.cidr,
          connectionId: row.connection_id,
          odsCode: row.ods_code,
          status: row.status,
        }
      : null;
  }

  async heldBlock(transaction: PoolClient, connectionId: string, cidr: string): Promise<IpAllocation | null> {
    const result = await transaction.query<AllocationRow>(
      `SELECT ${ALLOCATION_COLUMNS} FROM ${this.schema}.ip_allocation
       WHERE connection_id = $1 AND block = $2::cidr AND released_at IS NULL`,
      [connectionId, cidr],
    );
    const row = result.rows[0];
    return row ? allocationOf(row) : null;
  }

  async release(transaction: PoolClient, connectionId: string, allocationId?: string): Promise<IpAllocation[]> {
    const result = await transaction.query<AllocationRow>(
      `UPDATE ${this.schema}.ip_allocation SET released_at = now()
       WHERE connection_id = $1 AND released_at IS NULL ${allocationId ? 'AND id = $2' : ''}
       RETURNING ${ALLOCATION_COLUMNS}`,
      allocationId ? [connectionId, allocationId] : [connectionId],
    );
    return result.rows.map(allocationOf);
  }
}
