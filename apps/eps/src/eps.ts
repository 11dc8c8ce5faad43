import type { INestApplication } from '@nestjs/common';
import { EPS_EVENT_STREAM, EPS_EVENTS, EPS_QUEUE } from '@platform/contracts-eps';
import type { Logger } from '@platform/shared-logging';
import { connectNats } from '@platform/shared-nats';
import { ensureEventStream } from '@platform/shared-persistence';
import { bootstrapService, createMetricsRegistry } from '@platform/shared-service';
import { EpsModule } from './app.module';
import type { EpsConfig } from './config/eps.config';
import { openEpsDatabase } from './database/database';

/** Opens the database (migrated), connects to NATS and starts serving. */
export async function startEps(config: EpsConfig, logger: Logger): Promise<INestApplication> {
  const database = await openEpsDatabase({
    url: config.DATABASE_URL,
    schema: config.EPS_DB_SCHEMA,
    poolSize: config.EPS_DB_POOL_SIZE,
    timeouts: {
      acquireMs: config.EPS_DB_ACQUIRE_TIMEOUT_MS,
      statementMs: config.EPS_DB_STATEMENT_TIMEOUT_MS,
      idleInTransactionMs: 30_000,
    },
  });
  const nats = await connectNats({ url: config.NATS_URL, name: `eps-${process.pid}` });
  await ensureEventStream(nats, EPS_EVENT_STREAM, Object.values(EPS_EVENTS));
  return bootstrapService({
    name: EPS_QUEUE,
    module: EpsModule.with({
      database,
      nats,
      metrics: createMetricsRegistry('eps'),
      logger,
      rpcTimeoutMs: config.EPS_RPC_TIMEOUT_MS,
      expiryEveryMs: config.EPS_EXPIRY_EVERY_SECONDS * 1000,
      retention: {
        idempotencyHours: config.EPS_IDEMPOTENCY_RETENTION_HOURS,
        publishedEventHours: config.EPS_OUTBOX_RETENTION_HOURS,
      },
    }),
    natsUrl: config.NATS_URL,
    httpPort: config.EPS_HTTP_PORT,
    httpHost: config.EPS_HTTP_HOST,
    logger,
  });
}
