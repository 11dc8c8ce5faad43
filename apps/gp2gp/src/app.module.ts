import { Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { Gp2gpClient, GP2GP_SUBJECTS } from '@platform/contracts-gp2gp';
import { N3Client } from '@platform/contracts-n3';
import { PdsClient } from '@platform/contracts-pds';
import type { Logger } from '@platform/shared-logging';
import { NatsRpcClient, type CallerAssertionSigner } from '@platform/shared-nats';
import { Outbox, shutdownHook, writeSide, writeSideProviders, type Retention } from '@platform/shared-persistence';
import { HealthController, METRICS_REGISTRY, serviceHealth } from '@platform/shared-service';
import { GP2GP_DATABASE, type Gp2gpDatabase } from './database/database.provider';
import { LegacyHandler } from './legacy/legacy.handler';
import { legacyProviders } from './legacy/legacy.providers';
import { GP2GP_N3, GP2GP_PDS, GP2GP_SETTINGS, type Gp2gpSettings } from './transfers/clients';
import { FragmentStore } from './transfers/fragment-store';
import { AttachmentLinks } from './transfers/links';
import { Gp2gpMetrics } from './transfers/metrics';
import { AcknowledgeTransferUseCase, OperatorUseCases, ReadAttachmentUseCase } from './transfers/operations.usecases';
import { StartTransferUseCase } from './transfers/start-transfer.usecase';
import { TransferRepository } from './transfers/transfer.repository';
import { GP2GP_LOGGER, TransferWorker } from './transfers/transfer-worker';
import { TransfersHandler } from './transfers/transfers.handler';

export interface Gp2gpResources {
  database: Gp2gpDatabase;
  nats: NatsConnection;
  metrics: Registry;
  logger: Logger;
  retention: Retention;
  signer: CallerAssertionSigner;
  store: FragmentStore;
  links: AttachmentLinks;
  settings: Gp2gpSettings;
}

@Module({})
export class Gp2gpModule {
  /** The service wired to resources opened (and migrated) before Nest starts. */
  static with(resources: Gp2gpResources): DynamicModule {
    const self = new Gp2gpClient(new NatsRpcClient(resources.nats, { timeoutMs: 1500 }));
    // PDS and the N3 registry are asked on the caller's behalf, with gp2gp's own statement around the caller's.
    const rpc = new NatsRpcClient(resources.nats, { timeoutMs: 5000, signer: resources.signer });
    const health = serviceHealth({
      service: 'gp2gp',
      subject: GP2GP_SUBJECTS.healthCheck,
      pool: resources.database.pool,
      self: (context) => self.health(context),
    });
    const side = writeSide(resources, 'gp2gp');
    let worker: TransferWorker | undefined;
    return {
      module: Gp2gpModule,
      controllers: [TransfersHandler, HealthController, health.handler, LegacyHandler],
      providers: [
        // Legacy (HL7 V3 / MHS) practices.
        ...legacyProviders(resources),
        { provide: GP2GP_DATABASE, useValue: resources.database },
        ...health.providers,
        { provide: METRICS_REGISTRY, useValue: resources.metrics },
        { provide: GP2GP_PDS, useValue: new PdsClient(rpc) },
        { provide: GP2GP_N3, useValue: new N3Client(rpc) },
        { provide: GP2GP_SETTINGS, useValue: resources.settings },
        { provide: GP2GP_LOGGER, useValue: resources.logger },
        { provide: FragmentStore, useValue: resources.store },
        { provide: AttachmentLinks, useValue: resources.links },
        // On shutdown: the worker finishes its steps, the write side stops, then NATS and the database close.
        {
          provide: 'GP2GP_SHUTDOWN',
          useValue: shutdownHook(() => side.close(() => worker?.stop() ?? Promise.resolve())),
        },
        ...writeSideProviders(side),
        Gp2gpMetrics,
        TransferRepository,
        {
          provide: TransferWorker,
          useFactory: (...args: ConstructorParameters<typeof TransferWorker>) => {
            worker = new TransferWorker(...args);
            worker.start();
            return worker;
          },
          inject: [TransferRepository, FragmentStore, Outbox, Gp2gpMetrics, GP2GP_SETTINGS, GP2GP_LOGGER],
        },
        StartTransferUseCase,
        AcknowledgeTransferUseCase,
        OperatorUseCases,
        ReadAttachmentUseCase,
      ],
    };
  }
}
