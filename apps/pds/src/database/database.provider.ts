import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';

export const PDS_DATABASE = Symbol('PDS_DATABASE');

export interface PdsDatabase {
  dataSource: DataSource;
  pool: Pool;
  schema: string;
}
