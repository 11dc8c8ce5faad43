import type { INestApplication } from '@nestjs/common';
import { importBucket, N3_EVENT_STREAM, N3_EVENTS, N3_QUEUE, N3_SUBJECT_POLICIES } from '@platform/contracts-n3';
import type { Logger } from '@platform/shared-logging';
import { callerTrust, connectNats } from '@platform/shared-nats';
import { ensureEventStream } from '@platform/shared-persistence';
import { bootstrapService, createMetricsRegistry } from '@platform/shared-service';
import { N3RegistryModule } from './app.module';
import type { N3Config } from './config/n3.config';
import { OwnerIndex } from './shared/owner-index';
import { openRegistryDatabase } from './database/database';
import { seedSandboxEstate } from './sandbox/sandbox-estate';

/** Opens the database (migrated), connects to NATS, seeds if asked, and starts serving. */
export async function startN3Registry(config: N3Config, logger: Logger): Promise<INestApplication> {
  const database = await openRegistryDatabase({
    url: config.DATABASE_URL,
    schema: config.N3_DB_SCHEMA,
    poolSize: config.N3_DB_POOL_SIZE,
    timeouts: {
      acquireMs: config.N3_DB_ACQUIRE_TIMEOUT_MS,
      statementMs: config.N3_DB_STATEMENT_TIMEOUT_MS,
      idleInTransactionMs: 30_000,
    },
  });
  const trust = await callerTrust({ issuer: 'n3-registry', trustedKeys: config.CALLER_TRUSTED_KEYS });
  const nats = await connectNats({ url: config.NATS_URL, name: `n3-registry-${process.pid}` });
  await ensureEventStream(nats, N3_EVENT_STREAM, Object.values(N3_EVENTS));
  await importBucket(nats);
  if (config.N3_SEED === 'sandbox') {
    const seeded = await seedSandboxEstate(database, config.N3_SANDBOX_GPCONNECT_URL);
    logger.info(seeded, 'seeded the sandbox organisations and connections that were missing');
  }
  const owners = new OwnerIndex(database, nats, logger);
  await owners.start();
  logger.info({ blocks: owners.size }, 'owner table loaded');
  return bootstrapService({
    name: N3_QUEUE,
    module: N3RegistryModule.with({
      database,
      nats,
      metrics: createMetricsRegistry('n3_registry'),
      logger,
      owners,
      retention: {
        idempotencyHours: config.N3_IDEMPOTENCY_RETENTION_HOURS,
        publishedEventHours: config.N3_OUTBOX_RETENTION_HOURS,
      },
    }),
    natsUrl: config.NATS_URL,
    httpPort: config.N3_HTTP_PORT,
    httpHost: config.N3_HTTP_HOST,
    logger,
    callers: { verifier: trust.verifier, policies: N3_SUBJECT_POLICIES },
  });
}
