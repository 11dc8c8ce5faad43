import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import type { Mailbox, MailboxKind } from '@platform/contracts-nhsmail';
import { NHSMAIL_RELAY_DATABASE, type NhsmailRelayDatabase } from '../database/database.provider';

interface MailboxRow {
  address: string;
  kind: MailboxKind;
  display_name: string;
  owner_username: string | null;
  ods_code: string | null;
  password_hash: string | null;
  locked_until: Date | null;
  created_at: Date;
  members: string[] | null;
}

/** A mailbox with what sign-in needs (never leaves the service). */
export interface StoredMailbox extends Mailbox {
  passwordHash: string | null;
  lockedUntil: Date | null;
}

function toMailbox(row: MailboxRow): StoredMailbox {
  return {
    address: row.address,
    kind: row.kind,
    displayName: row.display_name,
    ownerUsername: row.owner_username,
    odsCode: row.ods_code,
    members: (row.members ?? []).sort(),
    hasPassword: row.password_hash !== null,
    createdAt: row.created_at.toISOString(),
    passwordHash: row.password_hash,
    lockedUntil: row.locked_until,
  };
}

/** Strips what only sign-in may see. */
export function publicMailbox(mailbox: StoredMailbox): Mailbox {
  const { passwordHash: _hash, lockedUntil: _locked, ...rest } = mailbox;
  return rest;
}

/** The only code that reads and writes mailboxes and their members. */
@Injectable()
export class MailboxRepository {
  private readonly pool: Pool;
  private readonly schema: string;

  constructor(@Inject(NHSMAIL_RELAY_DATABASE) database: NhsmailRelayDatabase) {
    this.pool = database.pool;
    this.schema = `"${database.schema}"`;
  }

  /** Inside the write's transaction; false when the address is taken. */
  async insert(
    transaction: PoolClient,
    mailbox: {
      address: string;
      kind: MailboxKind;
      displayName: string;
      ownerUsername: string | null;
      odsCode: string | null;
      passwordHash: string | null;
      members: string[];
      createdBy: string;
    },
  ): Promise<boolean> {
    const inserted = await transaction.query(
      `INSERT INTO ${this.schema}.mailbox (address, kind, display_name, owner_username, ods_code, password_hash, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
      [
        mailbox.address,
        mailbox.kind,
        mailbox.displayName,
        mailbox.ownerUsername,
        mailbox.odsCode,
        mailbox.passwordHash,
        mailbox.createdBy,
      ],
    );
    if (inserted.rowCount !== 1) return false;
    if (mailbox.members.length > 0) {
      await transaction.query(
        `INSERT INTO ${this.schema}.mailbox_member (address, username) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`,
        [mailbox.address, mailbox.members],
      );
    }
    return true;
  }

  async find(address: string, client: Pool | PoolClient = this.pool): Promise<StoredMailbox | undefined> {
    const result = await client.query<MailboxRow>(
      `SELECT m.address, m.kind, m.display_name, m.owner_username, m.ods_code, m.password_hash, m.locked_until,
              m.created_at, array_remove(array_agg(mm.username), NULL) AS members
         FROM ${this.schema}.mailbox m LEFT JOIN ${this.schema}.mailbox_member mm ON mm.address = m.address
        WHERE m.address = $1 GROUP BY m.address`,
      [address],
    );
    const row = result.rows[0];
    return row ? toMailbox(row) : undefined;
  }

  /** Which of `addresses` are mailboxes. */
  async existing(addresses: string[]): Promise<Set<string>> {
    const result = await this.pool.query<{ address: string }>(
      `SELECT address FROM ${this.schema}.mailbox WHERE address = ANY($1::text[])`,
      [addresses],
    );
    return new Set(result.rows.map((row) => row.address));
  }

  /**
   * A failed sign-in: counts it, and locks the mailbox for `lockSeconds` when it is the `limit`-th in a row
   * (the count starts again). Returns whether the mailbox is now locked.
   */
  async recordFailedLogin(address: string, limit: number, lockSeconds: number): Promise<boolean> {
    const result = await this.pool.query<{ locked: boolean }>(
      `UPDATE ${this.schema}.mailbox
          SET failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END,
              locked_until = CASE WHEN failed_logins + 1 >= $2 THEN now() + make_interval(secs => $3) ELSE locked_until END
        WHERE address = $1
        RETURNING locked_until IS NOT NULL AND locked_until > now() AS locked`,
      [address, limit, lockSeconds],
    );
    return result.rows[0]?.locked ?? false;
  }

  async recordSuccessfulLogin(address: string): Promise<void> {
    await this.pool.query(
      `UPDATE ${this.schema}.mailbox SET failed_logins = 0 WHERE address = $1 AND failed_logins <> 0`,
      [address],
    );
  }
}
