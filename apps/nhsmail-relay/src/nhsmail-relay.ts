import { readFileSync } from 'node:fs';
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
import { secureSettingsOf } from './secure/secure-settings';

function readPem(variable: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch {
    throw new Error(`${variable} names a file that cannot be read`);
  }
}

function listOf(setting: string): string[] {
  return setting
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** Opens the database (migrated), connects to NATS, makes sure its event stream exists, and starts serving. */
export async function startNhsmailRelay(config: NhsmailRelayConfig, logger: Logger): Promise<INestApplication> {
  const tls = {
    cert: readPem('NHSMAIL_TLS_CERT', config.NHSMAIL_TLS_CERT),
    key: readPem('NHSMAIL_TLS_KEY', config.NHSMAIL_TLS_KEY),
  };
  const dkimKey = config.NHSMAIL_DKIM_KEY
    ? readPem('NHSMAIL_DKIM_KEY', config.NHSMAIL_DKIM_KEY).toString('utf8')
    : undefined;
  const trust = await callerTrust({
    issuer: 'nhsmail-relay',
    trustedKeys: config.CALLER_TRUSTED_KEYS,
    signingKey: config.CALLER_SIGNING_KEY,
    signingKeyId: config.CALLER_SIGNING_KEY_ID,
  });
  // The relay asks the N3 registry, for itself, who owns a client's address: its statements need its own key.
  if (!trust.signer) throw new Error('CALLER_SIGNING_KEY must be set: the NHSmail relay asks the N3 registry');
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
      signer: trust.signer,
      domains: config.NHSMAIL_DOMAINS,
      smtp: {
        host: config.NHSMAIL_SMTP_HOST,
        submissionPort: config.NHSMAIL_SUBMISSION_PORT,
        relayPort: config.NHSMAIL_RELAY_PORT,
        hostname: config.NHSMAIL_HOSTNAME,
        tls,
        maxBytes: config.NHSMAIL_MAX_MESSAGE_BYTES,
        lockout: { attempts: config.NHSMAIL_LOCKOUT_ATTEMPTS, seconds: config.NHSMAIL_LOCKOUT_SECONDS },
      },
      delivery: {
        concurrency: config.NHSMAIL_DELIVERY_CONCURRENCY,
        pollMs: config.NHSMAIL_DELIVERY_POLL_MS,
        leaseSeconds: config.NHSMAIL_DELIVERY_LEASE_SECONDS,
        retryBaseSeconds: config.NHSMAIL_RETRY_BASE_SECONDS,
        retryLimit: config.NHSMAIL_RETRY_LIMIT,
        delayNoticeSeconds: config.NHSMAIL_DELAY_NOTICE_SECONDS,
        smarthostUrl: config.NHSMAIL_SMARTHOST_URL,
        mx: {
          domains: listOf(config.NHSMAIL_MX_DOMAINS),
          servers: listOf(config.NHSMAIL_DNS_SERVERS),
          port: config.NHSMAIL_MX_PORT,
        },
        hostname: config.NHSMAIL_HOSTNAME,
        ...(dkimKey
          ? {
              dkim: {
                domainName: config.NHSMAIL_DKIM_DOMAIN,
                keySelector: config.NHSMAIL_DKIM_SELECTOR,
                privateKey: dkimKey,
              },
            }
          : {}),
      },
      n3CacheSeconds: config.NHSMAIL_N3_CACHE_SECONDS,
      noticesStart: config.NHSMAIL_NOTICES_START,
      provisionDirectoryAtStart: config.NHSMAIL_PROVISION_DIRECTORY_AT_START === 'true',
      secure: secureSettingsOf(config),
      oidc: { issuer: config.OIDC_ISSUER, jwksUrl: config.OIDC_JWKS_URL, audience: config.OIDC_AUDIENCE },
    }),
    natsUrl: config.NATS_URL,
    httpPort: config.NHSMAIL_HTTP_PORT,
    httpHost: config.NHSMAIL_HTTP_HOST,
    logger,
    callers: { verifier: trust.verifier, policies: NHSMAIL_SUBJECT_POLICIES },
  });
}
