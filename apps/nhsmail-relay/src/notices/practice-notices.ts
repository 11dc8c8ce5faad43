import { randomUUID } from 'node:crypto';
import {
  AckPolicy,
  DeliverPolicy,
  JSONCodec,
  NatsError,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from '@platform/shared-logging';
import { withTransaction } from '@platform/shared-persistence';
import type { MailDomains } from '../mailboxes/mail-domains';
import type { MessageStore } from '../queue/message-store';
import { noticeFor, NOTICE_SOURCES, type NoticeSource, type PracticeNotice } from './notice-content';

/**
 * Where a durable consumer that does not exist yet starts (NHSMAIL_NOTICES_START): `new`, the events published
 * from the moment the relay first followed that source (kept in `notice_consumer`, so every replica and every
 * later start agree); `all`, every event the stream holds; or a time. An existing durable keeps its place.
 */
export type NoticeStart = 'new' | 'all' | Date;

export function noticeStartOf(setting: string | undefined): NoticeStart {
  if (!setting || setting === 'new') return 'new';
  if (setting === 'all') return 'all';
  const time = new Date(setting);
  if (Number.isNaN(time.getTime())) throw new Error('NHSMAIL_NOTICES_START must be new, all or an ISO 8601 time');
  return time;
}

export interface PracticeNoticeSettings {
  /** Pause before trying again when a stream does not exist yet or NATS is away. */
  retryMs: number;
  /** Where a new durable consumer starts (default `new`). */
  start?: NoticeStart;
}

/** JetStream's error code for a consumer that does not exist. */
const CONSUMER_NOT_FOUND = 10014;

const codec = JSONCodec<Record<string, unknown>>();

/** The shared mailbox of a GP practice: `gp.<ods>@<the platform's first domain>` (README, "Mailboxes"). */
export function practiceAddress(odsCode: string, domains: MailDomains): string {
  return `gp.${odsCode.toLowerCase()}@${domains.all[0] ?? 'nhs.net'}`;
}

/**
 * Platform events that a GP practice is told of by mail (notice-content.ts): GP2GP's 8-day timeout (print the
 * record) to the sending practice, and e-RS's rejected referral, returned advice, advice converted to a referral
 * and cancelled appointment to the referring practice. Each source is a JetStream durable pull consumer of one event subject (explicit
 * acks, every event the stream holds). An event becomes a notice queued in the relay's durable queue, in one
 * transaction with a row keyed by the event's ID (its Nats-Msg-Id, which the publishing outbox sets): an event
 * redelivered after a crash or a lost ack finds its row and is acknowledged without a second mail. The
 * practice's shared mailbox is made in the same transaction when it does not exist yet.
 */
export class PracticeNotices {
  private running = false;
  private readonly loops: Promise<void>[] = [];
  private readonly open = new Set<ConsumerMessages>();

  constructor(
    private readonly nats: NatsConnection,
    private readonly database: { pool: Pool; schema: string },
    private readonly store: MessageStore,
    private readonly domains: MailDomains,
    private readonly logger: Logger,
    private readonly settings: PracticeNoticeSettings,
    /** Called after a notice is queued, so the delivery worker picks it up at once. */
    private readonly queued: () => void,
    private readonly sources: readonly NoticeSource[] = NOTICE_SOURCES,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const source of this.sources) this.loops.push(this.follow(source));
  }

  async stop(): Promise<void> {
    this.running = false;
    // The loops hand back what they had pulled but not handled, then end (close() resolves once they have).
    for (const messages of this.open) void messages.close().catch(() => undefined);
    await Promise.all(this.loops);
    this.loops.length = 0;
  }

  /** Consumes one source until stopped, making its durable consumer again whenever the stream or NATS was away. */
  private async follow(source: NoticeSource): Promise<void> {
    let startAt: Date | undefined;
    while (this.running) {
      let messages: ConsumerMessages | undefined;
      try {
        // Recorded before the stream need exist: events published after the relay's first start are all mailed.
        startAt ??= await this.firstFollowed(source);
        const manager = await this.nats.jetstreamManager();
        await this.ensureConsumer(manager, source, startAt);
        const consumer = await this.nats.jetstream().consumers.get(source.stream, source.durable);
        // Pull requests of 5 s: one left open by a relay that stopped can take an event for at most that long
        // (that event then comes back after ack_wait).
        messages = await consumer.consume({ max_messages: 16, expires: 5_000 });
        this.open.add(messages);
        for await (const message of messages) {
          // Stopping: the batch already pulled goes back at once (not after ack_wait) for the next relay to take.
          if (!this.running) message.nak();
          else await this.handle(source, message);
        }
      } catch (error) {
        if (this.running) {
          this.logger.warn(
            { err: error, stream: source.stream, subject: source.subject },
            'event notices: consumer unavailable, retrying',
          );
        }
      } finally {
        if (messages) {
          this.open.delete(messages);
          void messages.close().catch(() => undefined);
        }
      }
      if (this.running) await new Promise((resolve) => setTimeout(resolve, this.settings.retryMs));
    }
  }

  /** When the relay first followed this source (recorded once, by whichever replica got there first). */
  private async firstFollowed(source: NoticeSource): Promise<Date> {
    const schema = this.database.schema;
    await this.database.pool.query(
      `INSERT INTO ${schema}.notice_consumer (durable, start_at) VALUES ($1, now()) ON CONFLICT (durable) DO NOTHING`,
      [source.durable],
    );
    const result = await this.database.pool.query<{ start_at: Date }>(
      `SELECT start_at FROM ${schema}.notice_consumer WHERE durable = $1`,
      [source.durable],
    );
    const startAt = result.rows[0]?.start_at;
    if (!startAt) throw new Error(`No start recorded for ${source.durable}`);
    return startAt;
  }

  /**
   * The durable consumer as it is when it exists (its place, its acknowledged events: nothing lost or mailed
   * twice across restarts); made to start at the configured point when it does not. Replicas making it at the
   * same moment make it with the same configuration, which JetStream accepts as the same consumer.
   */
  private async ensureConsumer(manager: JetStreamManager, source: NoticeSource, startAt: Date): Promise<void> {
    try {
      await manager.consumers.info(source.stream, source.durable);
      return;
    } catch (error) {
      if (!(error instanceof NatsError) || error.api_error?.err_code !== CONSUMER_NOT_FOUND) throw error;
    }
    const start = this.settings.start ?? 'new';
    const from: Partial<ConsumerConfig> =
      start === 'all'
        ? { deliver_policy: DeliverPolicy.All }
        : {
            deliver_policy: DeliverPolicy.StartTime,
            opt_start_time: (start === 'new' ? startAt : start).toISOString(),
          };
    await manager.consumers.add(source.stream, {
      durable_name: source.durable,
      filter_subject: source.subject,
      ack_policy: AckPolicy.Explicit,
      ...from,
      ack_wait: 30_000_000_000,
      max_deliver: -1,
    });
    this.logger.info(
      {
        stream: source.stream,
        durable: source.durable,
        deliverPolicy: from.deliver_policy,
        startAt: from.opt_start_time,
      },
      'event notices: durable consumer made',
    );
  }

  private async handle(source: NoticeSource, message: JsMsg): Promise<void> {
    let notice: PracticeNotice | undefined;
    try {
      notice = noticeFor(source.subject, codec.decode(message.data));
    } catch {
      notice = undefined;
    }
    if (!notice) {
      // Not a notice (a malformed or irrelevant payload): nothing to mail, and nothing to retry.
      this.logger.warn({ subject: message.subject, seq: message.seq }, 'event notices: event skipped');
      message.ack();
      return;
    }
    const eventId = message.headers?.get('Nats-Msg-Id') || `${source.stream}:${message.seq}`;
    try {
      const queued = await this.queue(eventId, source.subject, notice);
      message.ack();
      if (queued) this.queued();
    } catch (error) {
      // Not acknowledged: redelivered after a short pause (the database or NATS came back).
      this.logger.warn({ err: error, subject: message.subject, seq: message.seq }, 'event notices: will retry');
      message.nak(this.settings.retryMs);
    }
  }

  /** Queues the notice for the practice's mailbox once per event ID; false when the event was seen before. */
  async queue(eventId: string, subject: string, notice: PracticeNotice): Promise<boolean> {
    const schema = this.database.schema;
    const address = practiceAddress(notice.odsCode, this.domains);
    const from = `notifications@${this.domains.all[0] ?? 'nhs.net'}`;
    const messageUuid = randomUUID();
    const messageId = `<${messageUuid}@${this.domains.all[0] ?? 'nhs.net'}>`;
    const raw = await new MailComposer({
      from: { name: 'NHS platform notifications', address: from },
      to: address,
      subject: notice.subject,
      text: notice.text,
      messageId,
      headers: { 'Auto-Submitted': 'auto-generated', 'X-Platform-Event': subject },
    })
      .compile()
      .build();
    return withTransaction(this.database.pool, async (transaction: PoolClient) => {
      await transaction.query(
        `INSERT INTO ${schema}.mailbox (address, kind, display_name, ods_code, created_by)
         VALUES ($1, 'shared', $2, $3, 'service:nhsmail-relay') ON CONFLICT DO NOTHING`,
        [address, `GP practice ${notice.odsCode.toUpperCase()}`, notice.odsCode.toUpperCase()],
      );
      await this.store.insertGenerated(
        transaction,
        {
          id: messageUuid,
          // The null sender, as for the relay's other automatic mail: nothing bounces back to it.
          envelopeFrom: '',
          receivedVia: 'system',
          clientIp: null,
          authenticatedAs: null,
        },
        { messageId, fromHeader: from, subject: notice.subject },
        raw,
        [{ address, local: true }],
      );
      const recorded = await transaction.query(
        `INSERT INTO ${schema}.event_notice (event_id, subject, mailbox, message) VALUES ($1, $2, $3, $4)
         ON CONFLICT (event_id) DO NOTHING`,
        [eventId, subject, address, messageUuid],
      );
      if (recorded.rowCount === 1) return true;
      // Seen before (a redelivery, or another replica got there first): roll back this copy.
      throw new AlreadyNoticed();
    }).catch((error: unknown) => {
      if (error instanceof AlreadyNoticed) return false;
      throw error;
    });
  }
}

class AlreadyNoticed extends Error {}
