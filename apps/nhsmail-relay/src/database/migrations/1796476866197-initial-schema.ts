import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createWriteTables, dropWriteTables, migrationSchema } from '@platform/shared-persistence';

/**
 * Mailboxes (personal, shared with members, application accounts), the durable queue (a message stored in
 * chunks, one delivery row per recipient, claimed with a lease), what each mailbox holds, who read what, and
 * the write tables every service that takes writes keeps (idempotent answers, the transactional outbox).
 */
export class InitialSchema1796476866197 implements MigrationInterface {
  name = 'InitialSchema1796476866197';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'nhsmail');
    await queryRunner.query(`
      CREATE TABLE ${schema}.mailbox (
        address text PRIMARY KEY CHECK (address = lower(address)),
        kind text NOT NULL CHECK (kind IN ('personal', 'shared', 'application')),
        display_name text NOT NULL,
        owner_username text,
        ods_code text,
        password_hash text,
        failed_logins integer NOT NULL DEFAULT 0,
        locked_until timestamptz,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX mailbox_personal_owner_idx ON ${schema}.mailbox (owner_username) WHERE kind = 'personal'`,
    );
    await queryRunner.query(`
      CREATE TABLE ${schema}.mailbox_member (
        address text NOT NULL REFERENCES ${schema}.mailbox (address) ON DELETE CASCADE,
        username text NOT NULL,
        PRIMARY KEY (address, username)
      )`);
    await queryRunner.query(`CREATE INDEX mailbox_member_username_idx ON ${schema}.mailbox_member (username)`);
    // state: receiving (chunks still arriving; never delivered, swept if abandoned) -> queued (committed,
    // answered 250). A message's bytes are its chunks in order, never one buffer.
    await queryRunner.query(`
      CREATE TABLE ${schema}.message (
        id uuid PRIMARY KEY,
        state text NOT NULL CHECK (state IN ('receiving', 'queued')),
        message_id text,
        envelope_from text NOT NULL,
        from_header text,
        subject text,
        received_via text NOT NULL,
        client_ip text,
        authenticated_as text,
        size_bytes bigint NOT NULL DEFAULT 0,
        kind text NOT NULL DEFAULT 'mail' CHECK (kind IN ('mail', 'bounce', 'delay-notice')),
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE ${schema}.message_chunk (
        message uuid NOT NULL REFERENCES ${schema}.message (id) ON DELETE CASCADE,
        seq integer NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (message, seq)
      )`);
    // One row per recipient: pending -> delivered | bounced. A worker claims a due row by setting its lease.
    await queryRunner.query(`
      CREATE TABLE ${schema}.delivery (
        id bigserial PRIMARY KEY,
        message uuid NOT NULL REFERENCES ${schema}.message (id) ON DELETE CASCADE,
        recipient text NOT NULL,
        local boolean NOT NULL,
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'bounced')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        lease_owner text,
        lease_until timestamptz,
        last_error text,
        delay_notified boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        UNIQUE (message, recipient)
      )`);
    await queryRunner.query(
      `CREATE INDEX delivery_due_idx ON ${schema}.delivery (next_attempt_at) WHERE state = 'pending'`,
    );
    await queryRunner.query(`
      CREATE TABLE ${schema}.mailbox_message (
        id uuid PRIMARY KEY,
        mailbox text NOT NULL REFERENCES ${schema}.mailbox (address) ON DELETE CASCADE,
        message uuid NOT NULL REFERENCES ${schema}.message (id),
        seen boolean NOT NULL DEFAULT false,
        delivered_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (mailbox, message)
      )`);
    await queryRunner.query(`
      CREATE TABLE ${schema}.message_read_audit (
        id bigserial PRIMARY KEY,
        mailbox text NOT NULL,
        message uuid NOT NULL,
        reader text NOT NULL,
        what text NOT NULL,
        request_id text,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await createWriteTables(queryRunner, schema);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'nhsmail');
    await dropWriteTables(queryRunner, schema);
    for (const table of [
      'message_read_audit',
      'mailbox_message',
      'delivery',
      'message_chunk',
      'message',
      'mailbox_member',
      'mailbox',
    ]) {
      await queryRunner.query(`DROP TABLE ${schema}.${table}`);
    }
  }
}
