import {
  createCipheriv,
  createDecipheriv,
  createHash,
  randomBytes,
  randomInt,
  randomUUID,
  timingSafeEqual,
} from 'node:crypto';
import { simpleParser, type AddressObject } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { PoolClient } from 'pg';
import type {
  SecureAttachment,
  SecureCodeRequested,
  SecureCodeVerified,
  SecureLinkState,
  SecureMessageView,
} from '@platform/contracts-nhsmail';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { withTransaction } from '@platform/shared-persistence';
import { domainOf, type MailDomains } from '../mailboxes/mail-domains';
import type { MessageStore, StoredMessage } from '../queue/message-store';

export interface SecureKey {
  id: string;
  key: Buffer;
}

export interface SecureSettings {
  /** The first key encrypts; every key listed can decrypt (rotation). None: `[secure]` mail to outside waits. */
  keys: SecureKey[];
  /** Outside domains that may receive `[secure]` mail in clear (accredited to the secure email standard). */
  accreditedDomains: string[];
  /** The gateway's public address; links are `<pageUrl>/nhsmail/secure/<token>`. */
  pageUrl: string;
  linkDays: number;
  codeMinutes: number;
  codeAttempts: number;
  codesPerLink: number;
  sessionMinutes: number;
}

/** `NHSMAIL_SECURE_KEYS`: `id:base64-of-32-bytes`, comma-separated, the current key first. */
export function parseSecureKeys(value: string): SecureKey[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [id = '', material = ''] = entry.split(':');
      const key = Buffer.from(material, 'base64');
      if (!/^[A-Za-z0-9._-]{1,40}$/.test(id) || key.length !== 32) {
        throw new Error('NHSMAIL_SECURE_KEYS must be id:base64 pairs of 32-byte keys, comma-separated');
      }
      return { id, key };
    });
}

/** The part of a message that is shown on the page (at most this much text; NATS messages are 1 MB). */
const TEXT_LIMIT = 300 * 1024;
/** A code asked for again within this many seconds is not sent again (the first one still works). */
const RESEND_SECONDS = 30;
/** Attachments downloadable through the page (base64 in one NATS reply). */
export const ATTACHMENT_LIMIT = 600 * 1024;

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

export function maskAddress(address: string): string {
  const at = address.lastIndexOf('@');
  return `${address.slice(0, 1)}***${address.slice(at)}`;
}

interface LinkRow {
  id: string;
  message: string;
  recipient: string;
  expired: boolean;
  code_hash: Buffer | null;
  code_expired: boolean | null;
  /** A code was sent in the last RESEND_SECONDS (a double click or a retried post sends no second one). */
  code_recent: boolean | null;
  codes_sent: number;
  failed_codes: number;
  expires_at: Date;
}

/**
 * `[secure]` mail. A message whose subject carries `[secure]` (any case) to a recipient outside the platform's
 * domains and the accredited list is never sent in clear: the delivery worker calls `protect` in the
 * transaction that finishes that recipient's delivery, which encrypts the message once (AES-256-GCM per
 * chunk), drops the plaintext when no other recipient needs it, makes the recipient's link and queues the
 * notice that carries it. The page (through the gateway) asks for a one-time code mailed to that address,
 * checks it under the link row's lock (so the limit of wrong codes holds under any concurrency) and reads the
 * message, decrypted here; every read is audited.
 */
export class SecureMail {
  private readonly accredited: Set<string>;

  constructor(
    private readonly settings: SecureSettings,
    private readonly store: MessageStore,
    private readonly domains: MailDomains,
  ) {
    this.accredited = new Set(settings.accreditedDomains.map((domain) => domain.toLowerCase()));
  }

  get configured(): boolean {
    return this.settings.keys.length > 0;
  }

  private get schema(): string {
    return this.store.schema;
  }

  /** Must this recipient's copy of this message go through the page rather than in clear? */
  applies(recipient: { recipient: string; local: boolean }, message: StoredMessage): boolean {
    return (
      message.kind === 'mail' &&
      message.receivedVia !== 'system' &&
      /\[secure\]/i.test(message.subject ?? '') &&
      this.outside(recipient.recipient)
    );
  }

  private outside(address: string): boolean {
    return !this.domains.isLocal(address) && !this.accredited.has(domainOf(address));
  }

  /** In the transaction that marks the delivery done: the encrypted copy (once), the link, the notice. */
  async protect(transaction: PoolClient, recipient: string, message: StoredMessage): Promise<void> {
    const s = this.schema;
    const key = this.settings.keys[0];
    if (!key) throw new Error('No secure mail key is configured');
    const created = await transaction.query(
      `INSERT INTO ${s}.secure_message (message, key_id, size_bytes) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [message.id, key.id, message.sizeBytes],
    );
    if (created.rowCount === 1) {
      let seq = 0;
      for await (const chunk of this.store.content(message.id)) {
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', key.key, iv);
        cipher.setAAD(Buffer.from(`${message.id}.${seq}`));
        const data = Buffer.concat([cipher.update(chunk), cipher.final()]);
        await transaction.query(
          `INSERT INTO ${s}.secure_chunk (message, seq, iv, tag, data) VALUES ($1, $2, $3, $4, $5)`,
          [message.id, seq, iv, cipher.getAuthTag(), data],
        );
        seq += 1;
      }
      // Only secure recipients: nobody needs the plaintext (nor the subject) any more.
      const recipients = await transaction.query<{ recipient: string; local: boolean }>(
        `SELECT recipient, local FROM ${s}.delivery WHERE message = $1`,
        [message.id],
      );
      if (recipients.rows.every((row) => !row.local && this.outside(row.recipient))) {
        await transaction.query(`DELETE FROM ${s}.message_chunk WHERE message = $1`, [message.id]);
        await transaction.query(`UPDATE ${s}.message SET subject = '[secure]' WHERE id = $1`, [message.id]);
      }
    }
    const token = randomBytes(32).toString('base64url');
    const link = await transaction.query<{ expires_at: Date }>(
      `INSERT INTO ${s}.secure_link (id, token_hash, message, recipient, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(days => $5)) ON CONFLICT (message, recipient) DO NOTHING
       RETURNING expires_at`,
      [randomUUID(), sha256(token), message.id, recipient, this.settings.linkDays],
    );
    const expiresAt = link.rows[0]?.expires_at;
    if (!expiresAt) return;
    const sender = message.fromHeader ?? message.envelopeFrom ?? 'someone';
    const url = `${this.settings.pageUrl.replace(/\/$/, '')}/nhsmail/secure/${token}`;
    await this.queueMail(transaction, recipient, `You have a secure message from ${sender}`, [
      `${sender} has sent you a message through NHSmail marked as secure. It is not sent by email.`,
      '',
      'Read it on the NHSmail secure messages page:',
      '',
      url,
      '',
      `We will send a one-time security code to this address (${recipient}) when you ask for it on the page.`,
      `The link works until ${expiresAt.toUTCString()}. Do not forward this email: the link is for you only.`,
      '',
      'If you were not expecting this message, you can ignore this email.',
    ]);
  }

  private get sender(): string {
    return `secure.messages@${this.domains.all[0] ?? 'nhs.net'}`;
  }

  /**
   * After a notice or a code has been handed on (or bounced): its bytes are deleted, since the link and the
   * code in them are credentials (only their hashes are kept). A crash between the two leaves them until the
   * message is purged.
   */
  async forgetSent(message: StoredMessage): Promise<void> {
    if (message.receivedVia !== 'system' || message.fromHeader !== this.sender) return;
    await this.store.pool.query(
      `DELETE FROM ${this.schema}.message_chunk WHERE message = $1
          AND NOT EXISTS (SELECT 1 FROM ${this.schema}.delivery WHERE message = $1 AND state = 'pending')`,
      [message.id],
    );
  }

  private async queueMail(transaction: PoolClient, to: string, subject: string, lines: string[]): Promise<void> {
    const from = this.sender;
    const messageId = `<${randomUUID()}@${domainOf(from)}>`;
    const raw = await new MailComposer({
      from: { name: 'NHSmail secure messages', address: from },
      to,
      subject,
      text: `${lines.join('\r\n')}\r\n`,
      messageId,
      date: new Date(),
    })
      .compile()
      .build();
    await this.store.insertGenerated(
      transaction,
      {
        id: randomUUID(),
        envelopeFrom: '',
        receivedVia: 'system',
        clientIp: null,
        authenticatedAs: null,
        kind: 'mail',
      },
      { messageId, fromHeader: from, subject },
      raw,
      [{ address: to, local: false }],
    );
  }

  private async lockedLink(transaction: PoolClient, token: string): Promise<LinkRow | undefined> {
    const result = await transaction.query<LinkRow>(
      `SELECT id, message, recipient, expires_at, expires_at <= now() AS expired, code_hash,
              code_expires_at <= now() AS code_expired, codes_sent, failed_codes,
              code_expires_at - make_interval(mins => $2) > now() - make_interval(secs => $3) AS code_recent
         FROM ${this.schema}.secure_link WHERE token_hash = $1 FOR UPDATE`,
      [sha256(token), this.settings.codeMinutes, RESEND_SECONDS],
    );
    return result.rows[0];
  }

  private problemOf(link: LinkRow | undefined): 'unknown' | 'expired' | 'locked' | undefined {
    if (!link) return 'unknown';
    if (link.expired) return 'expired';
    if (link.failed_codes >= this.settings.codeAttempts) return 'locked';
    return undefined;
  }

  async link(token: string): Promise<SecureLinkState> {
    return withTransaction(this.store.pool, async (transaction) => {
      const link = await this.lockedLink(transaction, token);
      const problem = this.problemOf(link);
      if (problem || !link) return { state: problem ?? 'unknown' };
      return { state: 'open', maskedAddress: maskAddress(link.recipient), expiresAt: link.expires_at.toISOString() };
    });
  }

  /**
   * A new code (the old one stops working), mailed to the link's recipient through the queue; asked for again
   * within RESEND_SECONDS (a double click, a retried post) it sends nothing more and the first code stands.
   */
  async requestCode(token: string): Promise<SecureCodeRequested> {
    return withTransaction(this.store.pool, async (transaction) => {
      const link = await this.lockedLink(transaction, token);
      const problem = this.problemOf(link);
      if (problem || !link) return { outcome: problem ?? 'unknown' };
      if (link.code_hash && link.code_recent) return { outcome: 'sent', maskedAddress: maskAddress(link.recipient) };
      if (link.codes_sent >= this.settings.codesPerLink) return { outcome: 'too-many' };
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      await transaction.query(
        `UPDATE ${this.schema}.secure_link SET code_hash = $2, code_expires_at = now() + make_interval(mins => $3),
                codes_sent = codes_sent + 1 WHERE id = $1`,
        [link.id, sha256(`${link.id}:${code}`), this.settings.codeMinutes],
      );
      await this.queueMail(transaction, link.recipient, 'Your NHSmail security code', [
        `Your security code is ${code}`,
        '',
        `Enter it on the NHSmail secure messages page to read your message. It works once, for ${this.settings.codeMinutes} minutes.`,
        'If you did not ask for a code, someone may have your link: do not share this code.',
      ]);
      return { outcome: 'sent', maskedAddress: maskAddress(link.recipient) };
    });
  }

  /** Checks a code under the link's row lock: a wrong one counts, the limit locks the link, a right one is used up. */
  async verifyCode(token: string, code: string): Promise<SecureCodeVerified> {
    return withTransaction(this.store.pool, async (transaction) => {
      const link = await this.lockedLink(transaction, token);
      const problem = this.problemOf(link);
      if (problem || !link) return { outcome: problem ?? 'unknown' };
      if (!link.code_hash) return { outcome: 'no-code' };
      if (link.code_expired) return { outcome: 'code-expired' };
      const right = timingSafeEqual(link.code_hash, sha256(`${link.id}:${code}`));
      if (!right) {
        const failed = link.failed_codes + 1;
        await transaction.query(`UPDATE ${this.schema}.secure_link SET failed_codes = $2 WHERE id = $1`, [
          link.id,
          failed,
        ]);
        if (failed >= this.settings.codeAttempts) return { outcome: 'locked' };
        return { outcome: 'wrong', attemptsLeft: this.settings.codeAttempts - failed };
      }
      const session = randomBytes(32).toString('base64url');
      await transaction.query(
        `UPDATE ${this.schema}.secure_link SET code_hash = NULL, code_expires_at = NULL WHERE id = $1`,
        [link.id],
      );
      const inserted = await transaction.query<{ expires_at: Date }>(
        `INSERT INTO ${this.schema}.secure_session (token_hash, link, expires_at)
         VALUES ($1, $2, least(now() + make_interval(mins => $3), $4)) RETURNING expires_at`,
        [sha256(session), link.id, this.settings.sessionMinutes, link.expires_at],
      );
      return { outcome: 'ok', session, expiresAt: (inserted.rows[0]?.expires_at ?? new Date()).toISOString() };
    });
  }

  /** The message of a link, for a session of that link only (ACCESS_DENIED otherwise), decrypted. */
  private async open(token: string, session: string): Promise<{ message: string; recipient: string; raw: Buffer }> {
    const s = this.schema;
    const found = await this.store.pool.query<{ message: string; recipient: string; key_id: string }>(
      `SELECT l.message, l.recipient, m.key_id FROM ${s}.secure_session ss
         JOIN ${s}.secure_link l ON l.id = ss.link JOIN ${s}.secure_message m ON m.message = l.message
        WHERE ss.token_hash = $1 AND l.token_hash = $2 AND ss.expires_at > now() AND l.expires_at > now()`,
      [sha256(session), sha256(token)],
    );
    const row = found.rows[0];
    if (!row) throw new PlatformError('ACCESS_DENIED', 'This session cannot read this message');
    const key = this.settings.keys.find((candidate) => candidate.id === row.key_id);
    if (!key) throw new PlatformError('REC_SERVER_ERROR', `The secure mail key ${row.key_id} is no longer configured`);
    const chunks = await this.store.pool.query<{ seq: number; iv: Buffer; tag: Buffer; data: Buffer }>(
      `SELECT seq, iv, tag, data FROM ${s}.secure_chunk WHERE message = $1 ORDER BY seq`,
      [row.message],
    );
    const parts = chunks.rows.map((chunk) => {
      const decipher = createDecipheriv('aes-256-gcm', key.key, chunk.iv);
      decipher.setAAD(Buffer.from(`${row.message}.${chunk.seq}`));
      decipher.setAuthTag(chunk.tag);
      return Buffer.concat([decipher.update(chunk.data), decipher.final()]);
    });
    return { message: row.message, recipient: row.recipient, raw: Buffer.concat(parts) };
  }

  private async audit(recipient: string, message: string, what: string, context: CallContext): Promise<void> {
    await this.store.pool.query(
      `INSERT INTO ${this.schema}.message_read_audit (mailbox, message, reader, what, request_id) VALUES ($1, $2, $3, $4, $5)`,
      [recipient, message, `secure-link:${recipient}`, what, context.requestId],
    );
  }

  async read(token: string, session: string, context: CallContext): Promise<SecureMessageView> {
    const opened = await this.open(token, session);
    const parsed = await simpleParser(opened.raw, { skipHtmlToText: false, skipImageLinks: true });
    await this.audit(opened.recipient, opened.message, 'secure-read', context);
    const text = parsed.text ?? '';
    const addresses = (value: AddressObject | AddressObject[] | undefined): string =>
      (Array.isArray(value) ? value : value ? [value] : []).map((entry) => entry.text).join(', ');
    return {
      from: addresses(parsed.from),
      to: addresses(parsed.to),
      subject: parsed.subject ?? '',
      date: parsed.date ? parsed.date.toISOString() : null,
      text: text.slice(0, TEXT_LIMIT),
      truncated: text.length > TEXT_LIMIT,
      attachments: parsed.attachments.map((attachment, index) => ({
        index,
        filename: attachment.filename ?? `attachment-${index + 1}`,
        contentType: attachment.contentType,
        size: attachment.size,
        downloadable: attachment.size <= ATTACHMENT_LIMIT,
      })),
    };
  }

  async attachment(token: string, session: string, index: number, context: CallContext): Promise<SecureAttachment> {
    const opened = await this.open(token, session);
    const parsed = await simpleParser(opened.raw);
    const attachment = parsed.attachments[index];
    if (!attachment || attachment.size > ATTACHMENT_LIMIT) {
      throw new PlatformError('REC_NOT_FOUND', 'No such attachment that can be downloaded here');
    }
    await this.audit(opened.recipient, opened.message, `secure-attachment:${index}`, context);
    return {
      filename: attachment.filename ?? `attachment-${index + 1}`,
      contentType: attachment.contentType,
      contentBase64: attachment.content.toString('base64'),
    };
  }
}
