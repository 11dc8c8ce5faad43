import type { INestApplication } from '@nestjs/common';
import { ERS_EVENT_STREAM, ERS_EVENTS, ERS_QUEUE, ERS_SUBJECT_POLICIES } from '@platform/contracts-ers';
import type { Logger } from '@platform/shared-logging';
import { callerTrust, connectNats } from '@platform/shared-nats';
import { ensureEventStream } from '@platform/shared-persistence';
import { bootstrapService, createMetricsRegistry } from '@platform/shared-service';
import { EReferralsModule } from './app.module';
import type { EReferralsConfig } from './config/ers.config';
import { openEReferralsDatabase } from './database/database';
import { seedSandbox } from './sandbox/sandbox-seed';

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
  const trust = await callerTrust({
    issuer: 'e-referrals',
    trustedKeys: config.CALLER_TRUSTED_KEYS,
    signingKey: config.CALLER_SIGNING_KEY,
    signingKeyId: config.CALLER_SIGNING_KEY_ID,
  });
  // e-referrals asks PDS and the registry on the caller's behalf: its statements need its own key.
  if (!trust.signer) throw new Error('CALLER_SIGNING_KEY must be set: e-referrals calls PDS and the N3 registry');
  if (config.ERS_SEED === 'sandbox') {
    const seeded = await seedSandbox(database);
    logger.info(seeded, 'seeded the sandbox postcodes, services, slots and referrals that were missing');
  }
  const nats = await connectNats({ url: config.NATS_URL, name: `e-referrals-${process.pid}` });
  await ensureEventStream(nats, ERS_EVENT_STREAM, Object.values(ERS_EVENTS));
  return bootstrapService({
    name: ERS_QUEUE,
    module: EReferralsModule.with({
      database,
      nats,
      metrics: createMetricsRegistry('e-referrals'),
      logger,
      rpcTimeoutMs: config.ERS_RPC_TIMEOUT_MS,
      signer: trust.signer,
      verifier: trust.verifier,
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
