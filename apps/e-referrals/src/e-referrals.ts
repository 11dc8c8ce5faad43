import type { INestApplication } from '@nestjs/common';
import { ERS_EVENT_STREAM, ERS_EVENTS, ERS_QUEUE, ERS_SUBJECT_POLICIES } from '@platform/contracts-ers';
import type { Logger } from '@platform/shared-logging';
import { callerTrust, connectNats } from '@platform/shared-nats';
import { ensureEventStream } from '@platform/shared-persistence';
import { bootstrapService, createMetricsRegistry } from '@platform/shared-service';
import { EReferralsModule } from './app.module';
import type { EReferralsConfig } from './config/ers.config';
import { openEReferralsDatabase } from './database/database';

/** Opens the database (migrated), connects to NATS, makes sure its event stream exists, and starts serving. */
export async function startEReferrals(config: EReferralsConfig, logger: Logger): Promise<INestApplication> {
  const database = await openEReferralsDatabase({
    url: config.DATABASE_URL,
    schema: config.ERS_DB_SCHEMA,
    poolSize: config.ERS_DB_POOL_SIZE,
    timeouts: {
      acquireMs: config.ERS_DB_ACQUIRE_TIMEOUT_MS,
      statementMs: config.ERS_DB_STATEMENT_TIMEOUT_MS,
      idleInTransactionMs: 30_000,
    },
  });
  const trust = await callerTrust({ issuer: 'e-referrals', trustedKeys: config.CALLER_TRUSTED_KEYS });
  const nats = await connectNats({ url: config.NATS_URL, name: `e-referrals-${process.pid}` });
  await ensureEventStream(nats, ERS_EVENT_STREAM, Object.values(ERS_EVENTS));
  return bootstrapService({
    name: ERS_QUEUE,
    module: EReferralsModule.with({
      database,
      nats,
      metrics: createMetricsRegistry('e-referrals'),
      logger,
      retention: {
        idempotencyHours: config.ERS_IDEMPOTENCY_RETENTION_HOURS,
        publishedEventHours: config.ERS_OUTBOX_RETENTION_HOURS,
      },
    }),
    natsUrl: config.NATS_URL,
    httpPort: config.ERS_HTTP_PORT,
    httpHost: config.ERS_HTTP_HOST,
    logger,
    callers: { verifier: trust.verifier, policies: ERS_SUBJECT_POLICIES },
  });
}
