import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Pool, PoolClient } from 'pg';
import {
  NHSMAIL_EVENTS,
  type MessageBouncedEvent,
  type MessageDelayedEvent,
  type MessageDeliveredEvent,
} from '@platform/contracts-nhsmail';
import type { Logger } from '@platform/shared-logging';
import { connectionsLike, prepared, withTransaction, type Outbox } from '@platform/shared-persistence';
import type { MailDomains } from '../mailboxes/mail-domains';
import type { MailboxRepository } from '../mailboxes/mailbox.repository';
import { MxDelivery, type MxDeliverySettings } from '../outbound/mx-delivery';
import { MessageSigner, SmtpPool, targetOfUrl, type SendOutcome } from '../outbound/smtp-sender';
import type { SecureMail } from '../secure/secure-mail';
import { composeDsn } from './dsn';
import { Batches } from './batches';
import {
  CHUNK_BYTES,
  STORED_MESSAGE_COLUMNS,
  storedMessageOf,
  type DeliveryTaker,
  type HandedDelivery,
  type LeasedDelivery,
  type MessageStore,
  type StoredMessage,
  type StoredMessageRow,
} from './message-store';

export interface DeliverySettings {
  concurrency: number;
  pollMs: number;
  leaseSeconds: number;
  retryBaseSeconds: number;
  retryLimit: number;
  delayNoticeSeconds: number;
  /** smtp://host:port; unset: mail for other domains waits (deferred). */
  smarthostUrl?: string;
  dkim?: { domainName: string; keySelector: string; privateKey: string };
  hostname: string;
  /** Delivery by MX lookup (outbound/mx-delivery.ts): without a smarthost, or for the domains it lists. */
  mx?: MxDeliverySettings;
}

/**
 * Batches of delivered marks in flight at once, each on a connection of the marks' own. Two: with asynchronous
 * commit a batch's statement returns in about a millisecond, and the marks that arrive while two are out go
 * together in the next. Four made nearly a statement per copy under the nhsmail benchmark's load (0.88 a
 * message); one made a mark wait for the batch before it, and in the benchmark's kill test more copies were sent
 * twice (1 and 4 of about 1,000 in two of three runs, against none in three runs with four).
 */
const MARK_PARALLEL = 2;

type Claimed = LeasedDelivery;

/** A copy the smarthost took, to be marked delivered (with its event) in a batch with others. */
interface DeliveredMark {
  row: Claimed;
  event: MessageDeliveredEvent;
}

/**
 * Delivers the queue: claims due deliveries (a lease row lock, FOR UPDATE SKIP LOCKED, so replicas share the
 * work and a dead worker's claims come back when their lease ends), delivers each to a mailbox (in the same
 * transaction that marks it delivered, so exactly once) or through the smarthost (DKIM-signed), retries
 * temporary failures with doubling back-off, sends a delay notice once, and a bounce (RFC 3464) on a
 * permanent failure or at the retry limit. Every outcome is an event through the outbox. Once started, it also
 * takes deliveries straight from the group commit that queues them (DeliveryTaker), leased in that statement.
 */
export class DeliveryWorker implements DeliveryTaker {
  readonly owner = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly inFlight = new Set<Promise<void>>();
  /** Room promised to the group commit for deliveries it is leasing to this worker in a statement in flight. */
  private reserved = 0;
  /**
   * Whether a claim may find something. A claim that finds fewer rows than it asked for clears it; a kick (new
   * mail queued without a lease, the poll's tick, a bounce) sets it. A delivery finishing looks again only if it
   * is set, so deliveries handed over by the group commit cause no empty claims.
   */
  private maybeDue = true;
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;
  private stopped = false;
  private readonly smarthost?: SmtpPool;
  private readonly direct?: MxDelivery;
  private readonly signer?: MessageSigner;
  private lastSweep = 0;
  private dkimCacheDir?: string;
  /**
   * Copies handed to the smarthost are marked delivered in batches: the marks that arrive while a batch is
   * written go together in one statement (one round trip, one WAL flush) instead of a transaction each.
   */
  readonly deliveredMarks = new Batches<DeliveredMark>((marks) => this.writeDeliveredMarks(marks), {
    // A copy the smarthost has taken but that is not yet marked is sent again if the relay dies meanwhile
    // (RFC 1047): a mark waits at most for one of the two batches before it, neither waiting for a WAL flush.
    parallel: MARK_PARALLEL,
    maxItems: 500,
  });
  /**
   * The marks' own connections, with asynchronous commit: a mark is visible and kept once its statement
   * returns, without waiting for its WAL flush (the walwriter's, within a fraction of a second). That shortens
   * the time in which the relay dying would send a taken copy again. A crash of PostgreSQL itself in that
   * fraction can forget a mark, and its copy is then sent again: a duplicate, as RFC 1047 allows, never a loss
   * (the message was committed, synchronously, before its 250).
   */
  readonly markConnections: Pool;

  constructor(
    private readonly settings: DeliverySettings,
    private readonly store: MessageStore,
    private readonly mailboxes: MailboxRepository,
    private readonly domains: MailDomains,
    private readonly outbox: Outbox,
    private readonly logger: Logger,
    /** [secure] mail to outside domains: never sent in clear (secure/secure-mail.ts). */
    private readonly secure?: SecureMail,
  ) {
    // Messages go as stored, DKIM-signed (outbound/smtp-sender.ts): DKIM hashes the body before it can send the
    // headers, so a large body waits in a file of this process's own folder (mode 0700) while it is hashed.
    const signer = settings.dkim ? new MessageSigner({ ...settings.dkim, cacheDir: this.dkimCache() }) : undefined;
    this.signer = signer;
    this.markConnections = connectionsLike(store.pool, {
      max: MARK_PARALLEL,
      purpose: 'delivered marks',
      settings: '-c synchronous_commit=off',
    });
    if (settings.smarthostUrl) {
      this.smarthost = new SmtpPool(
        {
          ...targetOfUrl(settings.smarthostUrl, settings.hostname),
          maxConnections: settings.concurrency,
          maxMessages: 1000,
        },
        signer,
      );
    }
    if (settings.mx) {
      this.direct = new MxDelivery(settings.mx, {
        hostname: settings.hostname,
        smarthost: Boolean(settings.smarthostUrl),
        ...(signer ? { signer } : {}),
      });
    }
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.kick(), this.settings.pollMs);
    this.timer.unref();
    this.store.group.taker = this;
    this.kick();
  }

  get leaseSeconds(): number {
    return this.settings.leaseSeconds;
  }

  /** DeliveryTaker: room for up to `wanted` deliveries the group commit is about to lease to this worker. */
  reserve(wanted: number): number {
    if (this.stopped) return 0;
    const granted = Math.max(0, Math.min(wanted, this.settings.concurrency - this.inFlight.size - this.reserved));
    this.reserved += granted;
    return granted;
  }

  /** DeliveryTaker: room reserved and not used. */
  release(count: number): void {
    this.reserved -= count;
  }

  /**
   * DeliveryTaker: deliveries leased to this worker in the statement that queued them, delivered now. After a
   * stop they are left to their lease, which ends and lets the next worker claim them.
   */
  take(handed: HandedDelivery[]): void {
    this.reserved -= handed.length;
    if (this.stopped) return;
    for (const { row, message, content } of handed) this.dispatch(row, message, content);
  }

  /** DeliveryTaker: deliveries queued without a lease. */
  queued(): void {
    this.kick();
  }

  /** Looks for due work now (after an accept, so local mail lands without waiting for the next poll). */
  kick(): void {
    this.maybeDue = true;
    this.run();
  }

  private run(): void {
    if (this.stopped) return;
    // A kick during a pass asks for one more pass after it: the pass may have looked at the room before the
    // deliveries that kicked had finished (a batch of marks finishes several at once).
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.again = false;
    this.pass()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'Delivery pass failed; will try again'))
      .finally(() => {
        this.running = false;
        if (this.again) this.run();
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.store.group.taker === this) this.store.group.taker = undefined;
    await Promise.allSettled([...this.inFlight]);
    this.smarthost?.close();
    await this.signer?.close();
    if (!this.markConnections.ended && !this.markConnections.ending) await this.markConnections.end();
    if (this.dkimCacheDir) rmSync(this.dkimCacheDir, { recursive: true, force: true });
  }

  private dkimCache(): string {
    this.dkimCacheDir ??= mkdtempSync(path.join(tmpdir(), 'nhsmail-dkim-'));
    return this.dkimCacheDir;
  }

  private async pass(): Promise<void> {
    if (Date.now() - this.lastSweep > 60_000) {
      this.lastSweep = Date.now();
      await this.store.sweepAbandoned(60);
    }
    for (;;) {
      const room = this.settings.concurrency - this.inFlight.size - this.reserved;
      if (room <= 0 || this.stopped || !this.maybeDue) return;
      // Claims go in batches: while more than half of the deliveries are still in flight, the next claim waits
      // for more of them to finish (each finish kicks), so a busy queue is claimed a few rows per statement
      // rather than one row after every delivery.
      if (this.inFlight.size > 0 && room < Math.ceil(this.settings.concurrency / 2)) return;
      // Cleared before the claim is sent: a kick while it is out sets it again.
      this.maybeDue = false;
      const claimed = await this.claim(room);
      if (claimed.length === room) this.maybeDue = true;
      if (claimed.length === 0) return;
      for (const { row, message, content } of claimed) this.dispatch(row, message, content);
    }
  }

  /** One leased delivery, in flight until it is done; when it is, the worker looks for more. */
  private dispatch(row: Claimed, message: StoredMessage, content?: Buffer): void {
    const work = this.deliver(row, message, content).catch((error: unknown) =>
      this.logger.error({ err: error, delivery: row.id }, 'Delivery failed unexpectedly; its lease will expire'),
    );
    this.inFlight.add(work);
    void work.finally(() => {
      this.inFlight.delete(work);
      this.run();
    });
  }

  /**
   * Due deliveries, leased to this worker, each with its message (one round trip for both), and the bytes of a
   * message that is one chunk (at most CHUNK_BYTES: most mail), so that it is sent without another query.
   */
  private async claim(limit: number): Promise<{ row: Claimed; message: StoredMessage; content?: Buffer }[]> {
    const s = this.store.schema;
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`a claim takes a whole number of rows, not ${limit}`);
    // The limit is written into the text (one prepared statement per room size, at most the concurrency): as a
    // parameter, a generic plan would assume a tenth of the table and scan all of it instead of the due index.
    const result = await this.store.pool.query<Claimed & StoredMessageRow & { content: Buffer | null }>(
      prepared(
        `UPDATE ${s}.delivery d
          SET lease_owner = $1, lease_until = now() + make_interval(secs => $2), attempts = d.attempts + 1
         FROM ${s}.message m
        WHERE m.id = d.message
          AND d.id IN (SELECT id FROM ${s}.delivery
                        WHERE state = 'pending' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
                        ORDER BY next_attempt_at, id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
        RETURNING d.id, d.message, d.recipient, d.local, d.attempts, d.created_at, d.delay_notified,
                  ${STORED_MESSAGE_COLUMNS},
                  CASE WHEN NOT d.local AND m.size_bytes <= $3
                       THEN (SELECT c.data FROM ${s}.message_chunk c WHERE c.message = d.message AND c.seq = 0) END
                    AS content`,
        [this.owner, this.settings.leaseSeconds, CHUNK_BYTES],
      ),
    );
    return result.rows.map((row) => ({
      row: {
        id: row.id,
        message: row.message,
        recipient: row.recipient,
        local: row.local,
        attempts: row.attempts,
        created_at: row.created_at,
        delay_notified: row.delay_notified,
      },
      message: storedMessageOf({ ...row, id: row.message }),
      ...(row.content ? { content: row.content } : {}),
    }));
  }

  private async deliver(row: Claimed, message: StoredMessage, content?: Buffer): Promise<void> {
    if (row.local) return this.deliverLocally(row, message);
    if (this.secure?.applies(row, message)) return this.deliverSecurely(row, message);
    const outcome = await this.sendOnward(row, message, content);
    // A [secure] notice or code, once sent (or bounced), is not kept: its link and code are credentials.
    if (outcome.kind === 'delivered') {
      return this.finishDelivered(row).then(() => this.secure?.forgetSent(message));
    }
    if (outcome.kind === 'permanent' || row.attempts >= this.settings.retryLimit) {
      const reason =
        outcome.kind === 'permanent' ? outcome.reason : `retry limit reached (${row.attempts}): ${outcome.reason}`;
      return this.finishBounced(row, message, reason).then(() => this.secure?.forgetSent(message));
    }
    return this.reschedule(row, message, outcome.reason);
  }

  /** The message's bytes: the claimed chunk of a one-chunk message, or a stream of its chunks read in turn. */
  private bodyOf(message: StoredMessage, content?: Buffer): Buffer | Readable {
    return content ?? Readable.from(this.store.content(message.id));
  }

  private async sendOnward(row: Claimed, message: StoredMessage, content?: Buffer): Promise<SendOutcome> {
    if (this.direct?.handles(row.recipient)) {
      return this.direct.send(row.recipient, message.envelopeFrom || '', () => this.bodyOf(message, content));
    }
    if (!this.smarthost) return { kind: 'temporary', reason: '4.4.0 No smarthost is configured for other domains' };
    return this.smarthost.send({ from: message.envelopeFrom || '', to: row.recipient }, () =>
      this.bodyOf(message, content),
    );
  }

  /** Into the mailbox and marked delivered in one transaction: a retry after a crash finds it done. */
  private async deliverLocally(row: Claimed, message: StoredMessage): Promise<void> {
    const bounced = await withTransaction(this.store.pool, async (transaction) => {
      const s = this.store.schema;
      const mailbox = await this.mailboxes.find(row.recipient, transaction);
      if (!mailbox) return true;
      // Our lease still holds (the row is locked from here to the commit), so the copy goes in once.
      if (!(await this.markFinished(transaction, row, 'delivered', null))) return false;
      await transaction.query(
        `INSERT INTO ${s}.mailbox_message (id, mailbox, message) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [randomUUID(), row.recipient, row.message],
      );
      await this.deliveredEvent(transaction, row, true);
      return false;
    });
    if (bounced) await this.finishBounced(row, message, `5.1.1 <${row.recipient}>: no such mailbox here`);
    else this.outbox.kickSoon();
  }

  /**
   * A [secure] message to an outside recipient: its encrypted copy, link and notice in the transaction that
   * marks the delivery done (so once). Without a configured key it waits (retried, then bounced): never in clear.
   */
  private async deliverSecurely(row: Claimed, message: StoredMessage): Promise<void> {
    const secure = this.secure;
    if (!secure?.configured) {
      const reason = '4.7.0 [secure] mail cannot be sent: no secure mail key is configured';
      if (row.attempts >= this.settings.retryLimit) return this.finishBounced(row, message, reason);
      return this.reschedule(row, message, reason);
    }
    await withTransaction(this.store.pool, async (transaction) => {
      if (!(await this.markFinished(transaction, row, 'delivered', null))) return;
      await secure.protect(transaction, row.recipient, message);
      await this.deliveredEvent(transaction, row, false);
    });
    this.outbox.kick();
    this.kick();
  }

  private async markFinished(
    transaction: PoolClient,
    row: Claimed,
    state: 'delivered' | 'bounced',
    reason: string | null,
  ): Promise<boolean> {
    const result = await transaction.query(
      `UPDATE ${this.store.schema}.delivery
          SET state = $3, finished_at = now(), last_error = coalesce($4, last_error), lease_owner = NULL, lease_until = NULL
        WHERE id = $1 AND lease_owner = $2 AND state = 'pending'`,
      [row.id, this.owner, state, reason],
    );
    return result.rowCount === 1;
  }

  private deliveredEventOf(row: Claimed, local: boolean): MessageDeliveredEvent {
    return {
      messageId: row.message,
      deliveryId: row.id,
      local,
      attempts: row.attempts,
      occurredAt: new Date().toISOString(),
    };
  }

  private async deliveredEvent(transaction: PoolClient, row: Claimed, local: boolean): Promise<void> {
    const event = this.deliveredEventOf(row, local);
    await this.outbox.append(transaction, NHSMAIL_EVENTS.messageDelivered, event, { requestId: row.message });
  }

  /** Marked delivered (if our lease still holds) with its event, in a batch with other such marks. */
  private async finishDelivered(row: Claimed): Promise<void> {
    await this.deliveredMarks.submit({ row, event: this.deliveredEventOf(row, false) });
    this.outbox.kickSoon();
  }

  /**
   * One statement (one transaction) for a batch of marks: each delivery still leased to this worker and
   * pending is marked delivered, and only those get their event (written as Outbox.append writes it).
   */
  private async writeDeliveredMarks(marks: DeliveredMark[]): Promise<void> {
    const s = this.store.schema;
    await this.markConnections.query(
      prepared(
        `WITH input AS (
         SELECT * FROM unnest($2::bigint[], $3::text[], $4::text[]) WITH ORDINALITY AS i(id, payload, headers, n)
       ), marked AS (
         UPDATE ${s}.delivery d
            SET state = 'delivered', finished_at = now(), lease_owner = NULL, lease_until = NULL
           FROM input i
          WHERE d.id = i.id AND d.lease_owner = $1 AND d.state = 'pending'
         RETURNING d.id
       )
       INSERT INTO ${s}.outbox (subject, payload, headers)
       SELECT $5, i.payload::jsonb, i.headers::jsonb FROM input i JOIN marked USING (id) ORDER BY i.n`,
        [
          this.owner,
          marks.map((mark) => mark.row.id),
          marks.map((mark) => JSON.stringify(mark.event)),
          marks.map((mark) => JSON.stringify({ 'X-Request-ID': mark.row.message })),
          NHSMAIL_EVENTS.messageDelivered,
        ],
      ),
    );
  }

  private async finishBounced(row: Claimed, message: StoredMessage, reason: string): Promise<void> {
    const dsn = await this.notice('failed', row, message, reason);
    await withTransaction(this.store.pool, async (transaction) => {
      if (!(await this.markFinished(transaction, row, 'bounced', reason))) return;
      if (dsn) await dsn(transaction);
      const event: MessageBouncedEvent = {
        messageId: row.message,
        deliveryId: row.id,
        attempts: row.attempts,
        reason,
        occurredAt: new Date().toISOString(),
      };
      await this.outbox.append(transaction, NHSMAIL_EVENTS.messageBounced, event, { requestId: row.message });
    });
    this.logger.info(
      { delivery: row.id, message: row.message, attempts: row.attempts },
      'Delivery failed for good; bounced',
    );
    this.outbox.kick();
    this.kick();
  }

  private async reschedule(row: Claimed, message: StoredMessage, reason: string): Promise<void> {
    const delaySeconds = Math.min(this.settings.retryBaseSeconds * 2 ** (row.attempts - 1), 6 * 3600);
    const late = Date.now() - row.created_at.getTime() >= this.settings.delayNoticeSeconds * 1000;
    const notice = late && !row.delay_notified ? await this.notice('delayed', row, message, reason) : undefined;
    await withTransaction(this.store.pool, async (transaction) => {
      const result = await transaction.query(
        `UPDATE ${this.store.schema}.delivery
            SET next_attempt_at = now() + make_interval(secs => $3), last_error = $4, lease_owner = NULL,
                lease_until = NULL, delay_notified = delay_notified OR $5
          WHERE id = $1 AND lease_owner = $2 AND state = 'pending'`,
        [row.id, this.owner, delaySeconds, reason, late],
      );
      if (result.rowCount !== 1 || !late || row.delay_notified) return;
      if (notice) await notice(transaction);
      const event: MessageDelayedEvent = {
        messageId: row.message,
        deliveryId: row.id,
        attempts: row.attempts,
        occurredAt: new Date().toISOString(),
      };
      await this.outbox.append(transaction, NHSMAIL_EVENTS.messageDelayed, event, { requestId: row.message });
    });
    this.outbox.kick();
  }

  /**
   * The notice to the sender (bounce or delay), to queue in the transaction that records the outcome; none for
   * a message with a null sender (a notice itself) or a sender at a platform domain with no mailbox.
   */
  private async notice(
    action: 'failed' | 'delayed',
    row: Claimed,
    message: StoredMessage,
    reason: string,
  ): Promise<((transaction: PoolClient) => Promise<void>) | undefined> {
    const sender = message.envelopeFrom;
    if (!sender || message.kind !== 'mail') return undefined;
    const local = this.domains.isLocal(sender);
    if (local && (await this.mailboxes.existing([sender])).size === 0) return undefined;
    const postmaster = `mailer-daemon@${this.domains.all[0] ?? 'localhost'}`;
    const dsn = composeDsn({
      action,
      reportingMta: this.settings.hostname,
      postmaster,
      sender,
      recipient: row.recipient,
      diagnostic: reason,
      arrivalDate: message.receivedAt,
      originalHeaders: await this.store.headerBlock(message.id),
      originalSubject: message.subject,
    });
    return async (transaction) => {
      await this.store.insertGenerated(
        transaction,
        {
          id: randomUUID(),
          envelopeFrom: '',
          receivedVia: 'system',
          clientIp: null,
          authenticatedAs: null,
          kind: action === 'failed' ? 'bounce' : 'delay-notice',
        },
        {
          messageId: dsn.messageId,
          fromHeader: postmaster,
          subject: action === 'failed' ? 'Undelivered Mail Returned to Sender' : 'Delayed Mail',
        },
        dsn.raw,
        [{ address: sender, local }],
      );
    };
  }
}
