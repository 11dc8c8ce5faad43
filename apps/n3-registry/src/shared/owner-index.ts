import { JSONCodec, type NatsConnection, type Subscription } from 'nats';
import type { Pool } from 'pg';
import { N3_EVENTS, type ConnectionStatus, type IpOwner } from '@platform/contracts-n3';
import type { Logger } from '@platform/shared-logging';
import type { ServiceDatabase } from '@platform/shared-persistence';
import { OwnerTable, type HeldBlock } from './owner-table';

/** The statuses in which a connection carries traffic: its blocks answer the owner-of-IP lookup. */
export const CARRYING_TRAFFIC: readonly ConnectionStatus[] = ['live', 'migrating'];

const RELOAD_EVERY_MS = 60_000;
const RELOAD_SOON_MS = 200;

interface HeldRow {
  id: string;
  cidr: string;
  purpose: string | null;
  connection_id: string;
  status: IpOwner['connection']['status'];
  supplier: string;
  access_type: IpOwner['connection']['accessType'];
  bandwidth_mbps: number;
  site_id: string | null;
  ods_code: string;
  name: string;
  role: IpOwner['organisation']['role'];
  organisation_status: IpOwner['organisation']['status'];
}

function heldBlockOf(row: HeldRow): HeldBlock {
  return {
    cidr: row.cidr,
    owner: {
      allocation: { id: row.id, cidr: row.cidr, purpose: row.purpose },
      connection: {
        id: row.connection_id,
        status: row.status,
        supplier: row.supplier,
        accessType: row.access_type,
        bandwidthMbps: row.bandwidth_mbps,
        siteId: row.site_id,
      },
      organisation: { odsCode: row.ods_code, name: row.name, role: row.role, status: row.organisation_status },
    },
  };
}

/**
 * Keeps the owner table in step with the database: loaded whole before the service answers and every
 * minute after; a connection's entries refreshed after each change to it, whether this replica made it
 * (the use case awaits the refresh, so a lookup after a write sees it) or another did (its event, heard on
 * the event subjects, triggers the refresh here within milliseconds of the commit).
 */
export class OwnerIndex {
  private readonly table = new OwnerTable();
  private readonly pool: Pool;
  private readonly query: string;
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private subscriptions: Subscription[] = [];

  constructor(
    database: ServiceDatabase,
    private readonly nats: NatsConnection,
    private readonly logger: Logger,
  ) {
    this.pool = database.pool;
    const schema = `"${database.schema}"`;
    this.query = `SELECT a.id, a.block::text AS cidr, a.purpose, c.id AS connection_id, c.status, c.supplier, c.access_type,
        c.bandwidth_mbps, c.site_id, o.ods_code, o.name, o.role, o.status AS organisation_status
      FROM ${schema}.ip_allocation a
      JOIN ${schema}.connection c ON c.id = a.connection_id
      JOIN ${schema}.organisation o ON o.ods_code = c.ods_code
      WHERE a.released_at IS NULL AND c.status = ANY($1::text[])`;
  }

  /** Loads the table and starts following changes. */
  async start(): Promise<void> {
    await this.reloadAll();
    const codec = JSONCodec<{ connectionId?: unknown }>();
    const subjects = Object.values(N3_EVENTS);
    for (const subject of subjects) {
      const subscription = this.nats.subscribe(subject, {
        callback: (error, message) => {
          if (error) return;
          let connectionId: unknown;
          try {
            connectionId = codec.decode(message.data).connectionId;
          } catch {
            return;
          }
          if (typeof connectionId === 'string') {
            this.refresh(connectionId).catch((failure: unknown) =>
              this.logger.warn({ err: failure }, 'could not refresh the owner table; the next reload will'),
            );
          }
        },
      });
      this.subscriptions.push(subscription);
    }
    this.timer = setInterval(() => this.reloadSoon(0), RELOAD_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.soon);
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }

  lookup(address: string): IpOwner | null {
    return this.table.lookup(address);
  }

  get size(): number {
    return this.table.size;
  }

  async reloadAll(): Promise<void> {
    const result = await this.pool.query<HeldRow>(this.query, [CARRYING_TRAFFIC]);
    this.table.replaceAll(result.rows.map(heldBlockOf));
  }

  async refresh(connectionId: string): Promise<void> {
    const result = await this.pool.query<HeldRow>(`${this.query} AND c.id = $2`, [CARRYING_TRAFFIC, connectionId]);
    this.table.replaceConnection(connectionId, result.rows.map(heldBlockOf));
  }

  /** A whole reload shortly (organisation changes: names and statuses the entries carry). */
  reloadSoon(delayMs = RELOAD_SOON_MS): void {
    if (this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.reloadAll().catch((error: unknown) => this.logger.warn({ err: error }, 'could not reload the owner table'));
    }, delayMs);
    this.soon.unref();
  }
}
