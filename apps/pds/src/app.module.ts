import { Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { PdsClient, PDS_SUBJECT_POLICIES, PDS_SUBJECTS } from '@platform/contracts-pds';
import type { Logger } from '@platform/shared-logging';
import { CallerAdmission, NatsRpcClient, type CallerAssertionVerifier } from '@platform/shared-nats';
import { shutdownHook, writeSide, writeSideProviders, type Retention } from '@platform/shared-persistence';
import { HealthController, METRICS_REGISTRY, serviceHealth } from '@platform/shared-service';
import { ReadAuditRepository } from './audit/read-audit.repository';
import { PDS_DATABASE, type PdsDatabase } from './database/database.provider';
import { PatientHandler } from './read/patient.handler';
import { PatientRepository } from './patients/patient.repository';
import { ListRelatedPersonsUseCase } from './read/list-related-persons.usecase';
import { PatientAccess } from './read/patient-access';
import { ReadPatientUseCase } from './read/read-patient.usecase';
import { PatientGetSubscription } from './read/patient-get.subscription';
import { CreateHandler } from './create/create.handler';
import { CreatePatientUseCase } from './create/create-patient.usecase';
import { UpdateHandler } from './update/update.handler';
import { UpdatePatientUseCase } from './update/update-patient.usecase';
import { SearchHandler } from './search/search.handler';
import { SearchPatientsUseCase } from './search/search-patients.usecase';
import { SearchRowsRepository } from './patients/search-rows.repository';
import { PatientSearchRepository } from './search/search.repository';
import { SANDBOX_MODE } from './sandbox/sandbox-mode';
import { CoverageHandler } from './ehic/coverage.handler';
import { CoverageRepository } from './ehic/coverage.repository';
import { GetCoverageUseCase, UpdateCoverageUseCase } from './ehic/coverage.usecases';

export interface PdsResources {
  database: PdsDatabase;
  nats: NatsConnection;
  metrics: Registry;
  logger: Logger;
  retention: Retention;
  /** Serve NHS sandbox requests (PDS_SEED=sandbox): see src/sandbox/sandbox-mode.ts. */
  sandbox?: boolean;
  /** Verifies the signed caller statements of the subjects pds serves outside Nest (patient-get.subscription.ts). */
  verifier: CallerAssertionVerifier;
}

@Module({})
export class PdsModule {
  /** The service wired to resources opened (and migrated) before Nest starts. */
  static with(resources: PdsResources): DynamicModule {
    const self = new PdsClient(new NatsRpcClient(resources.nats, { timeoutMs: 1500 }));
    const health = serviceHealth({
      service: 'pds',
      subject: PDS_SUBJECTS.healthCheck,
      pool: resources.database.pool,
      self: (context) => self.health(context),
    });
    const side = writeSide(resources, 'pds');
    return {
      module: PdsModule,
      controllers: [
        PatientHandler,
        UpdateHandler,
        SearchHandler,
        HealthController,
        health.handler,
        CreateHandler,
        CoverageHandler,
      ],
      providers: [
        { provide: PDS_DATABASE, useValue: resources.database },
        { provide: SANDBOX_MODE, useValue: resources.sandbox === true },
        ...health.providers,
        { provide: METRICS_REGISTRY, useValue: resources.metrics },
        {
          // On shutdown: the write side stops, the last audit entries are committed, then NATS and the database
          // close; the audit writer's own connections close last, once what was answered during the drain is
          // committed too.
          provide: 'PDS_SHUTDOWN',
          useFactory: (audit: ReadAuditRepository) =>
            shutdownHook(async () => {
              await side.close(() => audit.flushed());
              await audit.close();
            }),
          inject: [ReadAuditRepository],
        },
        PatientRepository,
        ReadAuditRepository,
        ...writeSideProviders(side),
        UpdatePatientUseCase,
        CreatePatientUseCase,
        PatientAccess,
        ReadPatientUseCase,
        {
          provide: PatientGetSubscription,
          useFactory: (readPatient: ReadPatientUseCase) =>
            new PatientGetSubscription(
              resources.nats,
              new CallerAdmission(resources.verifier, PDS_SUBJECT_POLICIES, resources.logger),
              readPatient,
              resources.logger,
            ),
          inject: [ReadPatientUseCase],
        },
        ListRelatedPersonsUseCase,
        SearchRowsRepository,
        PatientSearchRepository,
        SearchPatientsUseCase,
        CoverageRepository,
        GetCoverageUseCase,
        UpdateCoverageUseCase,
      ],
    };
  }
}
