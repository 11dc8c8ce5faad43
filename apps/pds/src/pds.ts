import type { INestApplication } from '@nestjs/common';
import { PDS_EVENT_STREAM, PDS_EVENTS, PDS_QUEUE, PDS_SUBJECT_POLICIES } from '@platform/contracts-pds';
import type { Logger } from '@platform/shared-logging';
import { callerTrust, connectNats } from '@platform/shared-nats';
import { bootstrapService, createMetricsRegistry } from '@platform/shared-service';
import { PdsModule } from './app.module';
import type { PdsConfig } from './config/pds.config';
import { ensureEventStream } from '@platform/shared-persistence';
import { openPdsDatabase } from './database/database';
import { PatientRepository } from './patients/patient.repository';
import { sandboxCoverages, sandboxPatients, sandboxRelatedPersons } from './sandbox/sandbox-patients';
import { CoverageRepository } from './ehic/coverage.repository';

/** Opens the database (migrated), connects to NATS, seeds if asked, and starts serving. */
export async function startPds(config: PdsConfig, logger: Logger): Promise<INestApplication> {
  const database = await openPdsDatabase({
    url: config.DATABASE_URL,
    schema: config.PDS_DB_SCHEMA,
    poolSize: config.PDS_DB_POOL_SIZE,
    timeouts: {
      acquireMs: config.PDS_DB_ACQUIRE_TIMEOUT_MS,
      statementMs: config.PDS_DB_STATEMENT_TIMEOUT_MS,
      idleInTransactionMs: 30_000,
    },
  });
  const trust = await callerTrust({ issuer: 'pds', trustedKeys: config.CALLER_TRUSTED_KEYS });
  const nats = await connectNats({ url: config.NATS_URL, name: `pds-${process.pid}` });
  await ensureEventStream(nats, PDS_EVENT_STREAM, Object.values(PDS_EVENTS));
  if (config.PDS_SEED === 'sandbox') {
    const repository = new PatientRepository(database);
    const inserted = await repository.insertMissing(sandboxPatients());
    let relatedInserted = 0;
    for (const { nhsNumber, people } of sandboxRelatedPersons()) {
      relatedInserted += await repository.insertMissingRelatedPersons(nhsNumber, people);
    }
    const coverages = new CoverageRepository(database);
    let coverageInserted = 0;
    for (const { nhsNumber, coverage } of sandboxCoverages()) {
      coverageInserted += await coverages.insertMissing(nhsNumber, coverage);
    }
    logger.info(
      { inserted, relatedInserted, coverageInserted },
      'seeded the NHS sandbox patients, related people and EHIC cards that were missing',
    );
  }
  return bootstrapService({
    name: PDS_QUEUE,
    module: PdsModule.with({
      database,
      nats,
      metrics: createMetricsRegistry('pds'),
      logger,
      sandbox: config.PDS_SEED === 'sandbox',
      verifier: trust.verifier,
      retention: {
        idempotencyHours: config.PDS_IDEMPOTENCY_RETENTION_HOURS,
        publishedEventHours: config.PDS_OUTBOX_RETENTION_HOURS,
      },
    }),
    natsUrl: config.NATS_URL,
    httpPort: config.PDS_HTTP_PORT,
    httpHost: config.PDS_HTTP_HOST,
    logger,
    callers: { verifier: trust.verifier, policies: PDS_SUBJECT_POLICIES },
  });
}
