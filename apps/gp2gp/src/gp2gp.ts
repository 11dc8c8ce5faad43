import type { INestApplication } from '@nestjs/common';
import { GP2GP_EVENT_STREAM, GP2GP_EVENTS, GP2GP_QUEUE, GP2GP_SUBJECT_POLICIES } from '@platform/contracts-gp2gp';
import type { Logger } from '@platform/shared-logging';
import { callerTrust, connectNats } from '@platform/shared-nats';
import { ensureEventStream } from '@platform/shared-persistence';
import { bootstrapService, createMetricsRegistry } from '@platform/shared-service';
import { Gp2gpModule } from './app.module';
import type { Gp2gpConfig } from './config/gp2gp.config';
import { openGp2gpDatabase } from './database/database';
import { FragmentStore } from './transfers/fragment-store';
import { AttachmentLinks } from './transfers/links';

/**
 * Opens the database (migrated), connects to NATS, makes sure its event stream and fragment object store
 * exist, and starts serving (and moving transfers).
 */
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
  const trust = await callerTrust({
    issuer: 'gp2gp',
    trustedKeys: config.CALLER_TRUSTED_KEYS,
    signingKey: config.CALLER_SIGNING_KEY,
    signingKeyId: config.CALLER_SIGNING_KEY_ID,
  });
  // gp2gp asks PDS and the registry on the caller's behalf: its statements need its own key.
  if (!trust.signer) throw new Error('CALLER_SIGNING_KEY must be set: gp2gp calls PDS and the N3 registry');
  if (!config.GP2GP_LINK_SECRET) {
    logger.warn('GP2GP_LINK_SECRET is not set: attachment links work only on this process');
  }
  const nats = await connectNats({ url: config.NATS_URL, name: `gp2gp-${process.pid}` });
  await ensureEventStream(nats, GP2GP_EVENT_STREAM, Object.values(GP2GP_EVENTS));
  const store = await FragmentStore.open(nats, config.GP2GP_OBJECT_STORE_MAX_BYTES);
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
      signer: trust.signer,
      store,
      links: new AttachmentLinks(config.GP2GP_LINK_SECRET, config.GP2GP_LINK_TTL_SECONDS),
      settings: {
        fragmentBytes: config.GP2GP_FRAGMENT_BYTES,
        maxExtractBytes: config.GP2GP_MAX_EXTRACT_BYTES,
        ackTimeoutHours: config.GP2GP_ACK_TIMEOUT_HOURS,
        workers: config.GP2GP_WORKERS,
        leaseMs: config.GP2GP_LEASE_MS,
        senderAttempts: config.GP2GP_SENDER_ATTEMPTS,
        senderTimeoutMs: config.GP2GP_SENDER_TIMEOUT_MS,
        pollMs: config.GP2GP_POLL_MS,
      },
    }),
    natsUrl: config.NATS_URL,
    httpPort: config.GP2GP_HTTP_PORT,
    httpHost: config.GP2GP_HTTP_HOST,
    logger,
    callers: { verifier: trust.verifier, policies: GP2GP_SUBJECT_POLICIES },
  });
}
