import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import type { Pool, PoolClient } from 'pg';
import {
  ListQueueRequest,
  NHSMAIL_EVENTS,
  NHSMAIL_SUBJECTS,
  PurgeQueueRequest,
  RetryQueueRequest,
  type DeliveryState,
  type MessageBouncedEvent,
  type QueueActionResult,
  type QueuePage,
} from '@platform/contracts-nhsmail';
import { withCallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { NHSMAIL_RELAY_DATABASE, type NhsmailRelayDatabase } from '../database/database.provider';

interface DeliveryRow {
  id: string;
  message: string;
  recipient: string;
  local: boolean;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: Date;
  in_flight: boolean;
  last_error: string | null;
  received_at: Date;
  total: string;
}

/** A pending delivery no worker holds now: the only kind retry and purge touch (a held one may be at the smarthost). */
const FREE = `d.state = 'pending' AND (d.lease_until IS NULL OR d.lease_until < now())`;
const HELD = `d.state = 'pending' AND d.lease_until IS NOT NULL AND d.lease_until >= now()`;

/**
 * The queue for operators (role ops): list deliveries by state, recipient domain and age; retry now; purge a
 * message or a domain (bounced without a notice, each with its nhsmail.message.bounced.v1 through the outbox).
 * Deliveries a worker holds at that moment are counted and left alone.
 */
@Controller()
export class QueueAdminHandler {
  private readonly pool: Pool;
  private readonly schema: string;

  constructor(
    @Inject(NHSMAIL_RELAY_DATABASE) database: NhsmailRelayDatabase,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
  ) {
    this.pool = database.pool;
    this.schema = `"${database.schema}"`;
  }

  @MessagePattern(NHSMAIL_SUBJECTS.queueList)
  list(@Payload() request: ListQueueRequest, @Ctx() nats: NatsContext): Promise<QueuePage> {
    return withCallContext(nats, async () => {
      const limit = request.limit ?? 50;
      const offset = request.offset ?? 0;
      const result = await this.pool.query<DeliveryRow>(
        `SELECT d.id, d.message, d.recipient, d.local, d.state, d.attempts, d.next_attempt_at,
                (d.lease_until IS NOT NULL AND d.lease_until >= now()) AS in_flight, d.last_error, m.received_at,
                count(*) OVER () AS total
           FROM ${this.schema}.delivery d JOIN ${this.schema}.message m ON m.id = d.message
          WHERE ($1::text IS NULL OR d.state = $1)
            AND ($2::text IS NULL OR lower(split_part(d.recipient, '@', 2)) = $2)
            AND ($3::integer IS NULL OR m.received_at <= now() - make_interval(mins => $3))
          ORDER BY m.received_at, d.id
          LIMIT $4 OFFSET $5`,
        [request.state ?? null, request.domain ?? null, request.olderThanMinutes ?? null, limit, offset],
      );
      return {
        deliveries: result.rows.map((row) => ({
          id: String(row.id),
          message: row.message,
          recipient: row.recipient,
          local: row.local,
          state: row.state,
          attempts: row.attempts,
          nextAttemptAt: row.next_attempt_at.toISOString(),
          inFlight: row.in_flight,
          lastError: row.last_error,
          receivedAt: row.received_at.toISOString(),
        })),
        total: Number(result.rows[0]?.total ?? 0),
        offset,
        limit,
      };
    });
  }

  @MessagePattern(NHSMAIL_SUBJECTS.queueRetry)
  retry(@Payload() request: RetryQueueRequest, @Ctx() nats: NatsContext): Promise<QueueActionResult> {
    return withCallContext(nats, (call) =>
      this.writes.run(writeKey(call, 'queue.retry', request), async (transaction) => {
        const which =
          request.deliveryId !== undefined ? 'd.id = $1::bigint' : `lower(split_part(d.recipient, '@', 2)) = $1`;
        const value = request.deliveryId ?? request.domain ?? '';
        const changed = await transaction.query(
          `UPDATE ${this.schema}.delivery d SET next_attempt_at = now() WHERE ${FREE} AND ${which}`,
          [value],
        );
        return { changed: changed.rowCount ?? 0, inFlight: await this.held(transaction, which, value) };
      }),
    );
  }

  @MessagePattern(NHSMAIL_SUBJECTS.queuePurge)
  purge(@Payload() request: PurgeQueueRequest, @Ctx() nats: NatsContext): Promise<QueueActionResult> {
    return withCallContext(nats, async (call) => {
      const result = await this.writes.run(writeKey(call, 'queue.purge', request), async (transaction) => {
        const which =
          request.messageId !== undefined ? 'd.message = $1::uuid' : `lower(split_part(d.recipient, '@', 2)) = $1`;
        const value = request.messageId ?? request.domain ?? '';
        const reason = `purged by operations (${call.caller?.username ?? call.caller?.id ?? 'unknown'})`;
        const purged = await transaction.query<{ id: string; message: string; attempts: number }>(
          `UPDATE ${this.schema}.delivery d SET state = 'bounced', finished_at = now(), last_error = $2,
                  lease_owner = NULL, lease_until = NULL
            WHERE ${FREE} AND ${which} RETURNING d.id, d.message, d.attempts`,
          [value, reason],
        );
        for (const row of purged.rows) {
          const event: MessageBouncedEvent = {
            messageId: row.message,
            deliveryId: String(row.id),
            attempts: row.attempts,
            reason,
            occurredAt: new Date().toISOString(),
          };
          await this.outbox.append(transaction, NHSMAIL_EVENTS.messageBounced, event, { requestId: call.requestId });
        }
        return { changed: purged.rowCount ?? 0, inFlight: await this.held(transaction, which, value) };
      });
      this.outbox.kick();
      return result;
    });
  }

  private async held(transaction: PoolClient, which: string, value: string): Promise<number> {
    const result = await transaction.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${this.schema}.delivery d WHERE ${HELD} AND ${which}`,
      [value],
    );
    return result.rows[0]?.n ?? 0;
  }
}
