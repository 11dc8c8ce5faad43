import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import type { Mailbox } from '@platform/contracts-nhsmail';
import { PlatformError } from '@platform/shared-errors';
import type { Caller } from '@platform/shared-nats';
import { NHSMAIL_RELAY_DATABASE, type NhsmailRelayDatabase } from '../database/database.provider';
import { MailDomains } from '../mailboxes/mail-domains';
import { MailboxRepository, publicMailbox } from '../mailboxes/mailbox.repository';
import { practiceAddress } from '../notices/practice-notices';

/** The local part a username gives: lower case, anything but letters, digits and hyphens becomes a dot. */
export function localPartOf(username: string): string {
  const local = username
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '.')
    .replace(/^\.+|\.+$/g, '')
    .replace(/\.{2,}/g, '.');
  return local || 'user';
}

/** One part of a person's name as NHSmail writes it: no accents or apostrophes, spaces as hyphens. */
function namePart(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['\u2019]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** firstname.lastname, or undefined when the names leave nothing usable. */
export function localPartOfName(firstName: string, lastName: string): string | undefined {
  const first = namePart(firstName);
  const last = namePart(lastName);
  return first && last ? `${first}.${last}` : undefined;
}

/** Attempts at a free address (name, name2, name3, ...) before giving up. */
const SUFFIXES = 50;

/**
 * A platform user's personal mailbox, made the first time they use the API from their signed identity:
 * `<username>@<first domain>` (usernames are firstname.lastname), with a numeric suffix when that address
 * belongs to someone else. Safe under concurrency: the unique owner index means one mailbox per user whatever
 * the number of simultaneous first calls.
 */
@Injectable()
export class PersonalMailboxes {
  private readonly pool: Pool;
  private readonly schema: string;

  constructor(
    @Inject(NHSMAIL_RELAY_DATABASE) database: NhsmailRelayDatabase,
    private readonly mailboxes: MailboxRepository,
    private readonly domains: MailDomains,
  ) {
    this.pool = database.pool;
    this.schema = `"${database.schema}"`;
  }

  async ensure(caller: Caller | undefined): Promise<Mailbox> {
    const username = caller?.username;
    if (!username || !caller) {
      throw new PlatformError('NHSMAIL_MAILBOX_FORBIDDEN', undefined, {
        diagnostics: 'Only a signed-in person has a personal mailbox',
      });
    }
    return this.ensureFor(username, localPartOf(username), username, caller.id);
  }

  /**
   * The personal mailbox of `username`, made as `<local>@<first domain>` (a numeric suffix when that address is
   * someone else's) if the user has none yet; an existing one is answered as it is.
   */
  async ensureFor(username: string, local: string, displayName: string, createdBy: string): Promise<Mailbox> {
    const domain = this.domains.all[0] ?? 'nhs.net';
    for (let attempt = 1; attempt <= SUFFIXES; attempt += 1) {
      const existing = await this.ownedBy(username);
      if (existing) return existing;
      const address = `${local}${attempt === 1 ? '' : attempt}@${domain}`;
      await this.pool.query(
        `INSERT INTO ${this.schema}.mailbox (address, kind, display_name, owner_username, created_by)
         VALUES ($1, 'personal', $2, $3, $4) ON CONFLICT DO NOTHING`,
        [address, displayName, username, createdBy],
      );
    }
    const made = await this.ownedBy(username);
    if (!made) throw new PlatformError('REC_SERVER_ERROR', 'No free address for a personal mailbox');
    return made;
  }

  private async ownedBy(username: string): Promise<Mailbox | undefined> {
    const result = await this.pool.query<{ address: string }>(
      `SELECT address FROM ${this.schema}.mailbox WHERE kind = 'personal' AND owner_username = $1`,
      [username],
    );
    const address = result.rows[0]?.address;
    if (!address) return undefined;
    const mailbox = await this.mailboxes.find(address);
    return mailbox ? publicMailbox(mailbox) : undefined;
  }

  /** Shared mailboxes the caller may use: listed as a member, or of the organisation they act for. */
  async sharedFor(caller: Caller | undefined): Promise<Mailbox[]> {
    if (!caller?.username) return [];
    const result = await this.pool.query<{ address: string }>(
      `SELECT m.address FROM ${this.schema}.mailbox m
        WHERE m.kind = 'shared'
          AND (m.ods_code = $2 OR EXISTS (SELECT 1 FROM ${this.schema}.mailbox_member mm
                                           WHERE mm.address = m.address AND mm.username = $1))
        ORDER BY m.address LIMIT 100`,
      [caller.username, caller.organisation ?? null],
    );
    const found = await Promise.all(result.rows.map((row) => this.mailboxes.find(row.address)));
    return found.flatMap((mailbox) => (mailbox ? [publicMailbox(mailbox)] : []));
  }

  /** pharmacy.<ods>@<first domain> for each code; returns which were made now and which existed. */
  provisionPharmacies(
    odsCodes: string[],
    createdBy: string,
    client: Pool | PoolClient = this.pool,
  ): Promise<{ created: string[]; existing: string[] }> {
    return this.provisionOrganisations('pharmacy', odsCodes, createdBy, client);
  }

  /**
   * The shared mailbox of each organisation: `pharmacy.<ods>@` ('Pharmacy <ODS>') or a GP practice's
   * `gp.<ods>@` ('GP practice <ODS>', as its first notice makes it), with its ODS code, so the users acting for
   * the organisation are its members. One statement, in the codes' order: however many callers run it at once,
   * each mailbox is made once (the address is the key) and the others find it existing.
   */
  async provisionOrganisations(
    kind: 'pharmacy' | 'gp',
    odsCodes: string[],
    createdBy: string,
    client: Pool | PoolClient = this.pool,
  ): Promise<{ created: string[]; existing: string[] }> {
    const codes = [...new Set(kind === 'gp' ? odsCodes.map((code) => code.toUpperCase()) : odsCodes)].sort();
    const addresses = codes.map((code) =>
      kind === 'gp'
        ? practiceAddress(code, this.domains)
        : `pharmacy.${code.toLowerCase()}@${this.domains.all[0] ?? 'nhs.net'}`,
    );
    const result = await client.query<{ address: string }>(
      `INSERT INTO ${this.schema}.mailbox (address, kind, display_name, ods_code, created_by)
       SELECT a, 'shared', $4 || c, c, $3 FROM unnest($1::text[], $2::text[]) AS x(a, c)
       ON CONFLICT DO NOTHING RETURNING address`,
      [addresses, codes, createdBy, kind === 'gp' ? 'GP practice ' : 'Pharmacy '],
    );
    const created = new Set(result.rows.map((row) => row.address));
    return {
      created: addresses.filter((address) => created.has(address)),
      existing: addresses.filter((address) => !created.has(address)),
    };
  }
}
