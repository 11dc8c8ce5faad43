import type { INestApplication } from '@nestjs/common';
import { EPS_EVENT_STREAM, EPS_EVENTS, EPS_QUEUE, EPS_SUBJECT_POLICIES } from '@platform/contracts-eps';
import type { Logger } from '@platform/shared-logging';
import { callerTrust, connectNats } from '@platform/shared-nats';
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
  const trust = await callerTrust({
    issuer: 'eps',
    trustedKeys: config.CALLER_TRUSTED_KEYS,
    signingKey: config.CALLER_SIGNING_KEY,
    signingKeyId: config.CALLER_SIGNING_KEY_ID,
  });
  // EPS asks PDS and the registry on the caller's behalf: its statements need its own key.
  if (!trust.signer) throw new Error('CALLER_SIGNING_KEY must be set: EPS calls PDS and the N3 registry');
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
      signer: trust.signer,
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
    callers: { verifier: trust.verifier, policies: EPS_SUBJECT_POLICIES },
  });
}
