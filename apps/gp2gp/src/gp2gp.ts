import type { INestApplication } from '@nestjs/common';
import { GP2GP_EVENT_STREAM, GP2GP_EVENTS, GP2GP_QUEUE, GP2GP_SUBJECT_POLICIES } from '@platform/contracts-gp2gp';
import type { Logger } from '@platform/shared-logging';
import { callerTrust, connectNats } from '@platform/shared-nats';
import { ensureEventStream } from '@platform/shared-persistence';
import { bootstrapService, createMetricsRegistry } from '@platform/shared-service';
import { Gp2gpModule } from './app.module';
import type { Gp2gpConfig } from './config/gp2gp.config';
import { openGp2gpDatabase } from './database/database';

/** Opens the database (migrated), connects to NATS, makes sure its event stream exists, and starts serving. */
export async function startGp2gp(config: Gp2gpConfig, logger: Logger): Promise<INestApplication> {
  const database = await openGp2gpDatabase({
    url: config.DATABASE_URL,
    schema: config.GP2GP_DB_SCHEMA,
    poolSize: config.GP2GP_DB_POOL_SIZE,
    timeouts: {
      acquireMs: config.GP2GP_DB_ACQUIRE_TIMEOUT_MS,
      statementMs: config.GP2GP_DB_STATEMENT_TIMEOUT_MS,
      idleInTransactionMs: 30_000,
    },
  });
  const trust = await callerTrust({ issuer: 'gp2gp', trustedKeys: config.CALLER_TRUSTED_KEYS });
  const nats = await connectNats({ url: config.NATS_URL, name: `gp2gp-${process.pid}` });
  await ensureEventStream(nats, GP2GP_EVENT_STREAM, Object.values(GP2GP_EVENTS));
  return bootstrapService({
    name: GP2GP_QUEUE,
    module: Gp2gpModule.with({
      database,
      nats,
      metrics: createMetricsRegistry('gp2gp'),
      logger,
      retention: {
        idempotencyHours: config.GP2GP_IDEMPOTENCY_RETENTION_HOURS,
        publishedEventHours: config.GP2GP_OUTBOX_RETENTION_HOURS,
      },
    }),
    natsUrl: config.NATS_URL,
    httpPort: config.GP2GP_HTTP_PORT,
    httpHost: config.GP2GP_HTTP_HOST,
    logger,
    callers: { verifier: trust.verifier, policies: GP2GP_SUBJECT_POLICIES },
  });
}
