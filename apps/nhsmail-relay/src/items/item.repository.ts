import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import type { Item } from '@platform/contracts-nhsmail';
import { NHSMAIL_RELAY_DATABASE, type NhsmailRelayDatabase } from '../database/database.provider';

interface ItemRow {
  id: string;
  name: string;
  description: string | null;
  version: number;
  created_at: Date;
}

const COLUMNS = 'id, name, description, version, created_at';

function toItem(row: ItemRow): Item {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    version: row.version,
    createdAt: row.created_at.toISOString(),
  };
}

/** The only code that reads and writes items. */
@Injectable()
export class ItemRepository {
  private readonly pool: Pool;
  private readonly table: string;

  constructor(@Inject(NHSMAIL_RELAY_DATABASE) database: NhsmailRelayDatabase) {
    this.pool = database.pool;
    this.table = `"${database.schema}".item`;
  }

  /** Inside the write's transaction (IdempotentWrites gives it). */
  async insert(
    transaction: PoolClient,
    item: { id: string; name: string; description: string | null; createdBy: string },
  ): Promise<Item> {
    const result = await transaction.query<ItemRow>(
      `INSERT INTO ${this.table} (id, name, description, created_by) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
      [item.id, item.name, item.description, item.createdBy],
    );
    return toItem(result.rows[0]);
  }

  async find(id: string): Promise<Item | undefined> {
    const result = await this.pool.query<ItemRow>(`SELECT ${COLUMNS} FROM ${this.table} WHERE id = $1`, [id]);
    const row = result.rows[0];
    return row ? toItem(row) : undefined;
  }
}
