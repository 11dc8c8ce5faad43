import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import type { ConnectionStatus, IpAllocation } from '@platform/contracts-n3';
import type { ServiceDatabase } from '@platform/shared-persistence';
import { N3_DATABASE } from '../database/database';

export interface AllocationRow {
  id: string;
  connection_id: string;
  cidr: string;
  purpose: string | null;
  allocated_at: Date;
  released_at: Date | null;
}

/** The columns every read of an allocation selects (`allocationOf` maps them); connection reads use them too. */
export const ALLOCATION_COLUMNS = 'id, connection_id, block::text AS cidr, purpose, allocated_at, released_at';

export function allocationOf(row: AllocationRow): IpAllocation {
  return {
    id: row.id,
    connectionId: row.connection_id,
    cidr: row.cidr,
    purpose: row.purpose,
    allocatedAt: row.allocated_at.toISOString(),
    releasedAt: row.released_at?.toISOString() ?? null,
  };
}

/** The IP blocks connections hold: allocated (never overlapping another connection's), looked up, released. */
@Injectable()
export class IpAllocationRepository {
  private readonly pool: Pool;
  private readonly schema: string;

  constructor(@Inject(N3_DATABASE) database: ServiceDatabase) {
    this.pool = database.pool;
    this.schema = `"${database.schema}"`;
  }

  /** Inserts a block; the exclusion constraint refuses it (SQLSTATE 23P01) if another connection holds an overlap. */
  async allocate(
    transaction: PoolClient,
    connectionId: string,
    cidr: string,
    purpose: string | null,
  ): Promise<IpAllocation> {
    // Allocations queue on a transaction-scoped advisory lock: two racing inserts of overlapping blocks would each
    // wait for the other's exclusion check and one would lose a deadlock (a 503 to its caller) instead of meeting
    // the winner's committed block (409 IP_RANGE_CONFLICT). The exclusion constraint still decides.
    await transaction.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `n3.ip-allocation:${this.schema}`,
    ]);
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

  async held(transaction: PoolClient, connectionId: string, cidr: string): Promise<IpAllocation | null> {
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
