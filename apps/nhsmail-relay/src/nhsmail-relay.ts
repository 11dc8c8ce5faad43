import type { INestApplication } from '@nestjs/common';
import {
  NHSMAIL_EVENT_STREAM,
  NHSMAIL_EVENTS,
  NHSMAIL_QUEUE,
  NHSMAIL_SUBJECT_POLICIES,
} from '@platform/contracts-nhsmail';
import type { Logger } from '@platform/shared-logging';
import { callerTrust, connectNats } from '@platform/shared-nats';
import { ensureEventStream } from '@platform/shared-persistence';
import { bootstrapService, createMetricsRegistry } from '@platform/shared-service';
import { NhsmailRelayModule } from './app.module';
import type { NhsmailRelayConfig } from './config/nhsmail.config';
import { openNhsmailRelayDatabase } from './database/database';

/** Opens the database (migrated), connects to NATS, makes sure its event stream exists, and starts serving. */
export async function startNhsmailRelay(config: NhsmailRelayConfig, logger: Logger): Promise<INestApplication> {
  const database = await openNhsmailRelayDatabase({
    url: config.DATABASE_URL,
    schema: config.NHSMAIL_DB_SCHEMA,
    poolSize: config.NHSMAIL_DB_POOL_SIZE,
    timeouts: {
      acquireMs: config.NHSMAIL_DB_ACQUIRE_TIMEOUT_MS,
      statementMs: config.NHSMAIL_DB_STATEMENT_TIMEOUT_MS,
      idleInTransactionMs: 30_000,
    },
  });
  const trust = await callerTrust({ issuer: 'nhsmail-relay', trustedKeys: config.CALLER_TRUSTED_KEYS });
  const nats = await connectNats({ url: config.NATS_URL, name: `nhsmail-relay-${process.pid}` });
  await ensureEventStream(nats, NHSMAIL_EVENT_STREAM, Object.values(NHSMAIL_EVENTS));
  return bootstrapService({
    name: NHSMAIL_QUEUE,
    module: NhsmailRelayModule.with({
      database,
      nats,
      metrics: createMetricsRegistry('nhsmail-relay'),
      logger,
      retention: {
        idempotencyHours: config.NHSMAIL_IDEMPOTENCY_RETENTION_HOURS,
        publishedEventHours: config.NHSMAIL_OUTBOX_RETENTION_HOURS,
      },
    }),
    natsUrl: config.NATS_URL,
    httpPort: config.NHSMAIL_HTTP_PORT,
    httpHost: config.NHSMAIL_HTTP_HOST,
    logger,
    callers: { verifier: trust.verifier, policies: NHSMAIL_SUBJECT_POLICIES },
  });
}
