import { Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { EpsClient, EPS_SUBJECTS } from '@platform/contracts-eps';
import { N3Client } from '@platform/contracts-n3';
import { PdsClient } from '@platform/contracts-pds';
import type { Logger } from '@platform/shared-logging';
import { NatsRpcClient } from '@platform/shared-nats';
import {
  shutdownHook,
  writeSide,
  writeSideProviders,
  type Retention,
  type ServiceDatabase,
} from '@platform/shared-persistence';
import { HealthController, METRICS_REGISTRY, serviceHealth } from '@platform/shared-service';
import { EPS_DATABASE } from './database/database';
import { DispensingUseCase } from './dispensing/dispensing.usecase';
import { ReleaseUseCase } from './dispensing/release.usecase';
import { ReturnUseCase } from './dispensing/return.usecase';
import { EpsHandler } from './eps.handler';
import { EPS_N3, EPS_PDS, PrescribingUseCase } from './prescribing/prescribing.usecase';
import { PrescriptionRepository } from './prescribing/prescription.repository';
import { TrackingUseCase } from './prescribing/tracking.usecase';
import { ExpiryJob } from './prescribing/expiry';
import { CancelUseCase } from './prescribing/cancel.usecase';

export interface EpsResources {
  database: ServiceDatabase;
  nats: NatsConnection;
  metrics: Registry;
  logger: Logger;
  retention: Retention;
  rpcTimeoutMs: number;
  expiryEveryMs: number;
}

const EPS_SHUTDOWN = Symbol('EPS_SHUTDOWN');

@Module({})
export class EpsModule {
  static with(resources: EpsResources): DynamicModule {
    const rpc = new NatsRpcClient(resources.nats, { timeoutMs: resources.rpcTimeoutMs });
    const self = new EpsClient(new NatsRpcClient(resources.nats, { timeoutMs: 1500 }));
    const health = serviceHealth({
      service: 'eps',
      subject: EPS_SUBJECTS.healthCheck,
      pool: resources.database.pool,
      self: (context) => self.health(context),
    });
    const side = writeSide(resources, 'eps');
    return {
      module: EpsModule,
      controllers: [EpsHandler, HealthController, health.handler],
      providers: [
        { provide: EPS_DATABASE, useValue: resources.database },
        { provide: EPS_PDS, useValue: new PdsClient(rpc) },
        { provide: EPS_N3, useValue: new N3Client(rpc) },
        ...health.providers,
        { provide: METRICS_REGISTRY, useValue: resources.metrics },
        ...writeSideProviders(side),
        {
          provide: ExpiryJob,
          useFactory: (prescriptions: PrescriptionRepository) =>
            new ExpiryJob(resources.database, prescriptions, side.outbox, resources.logger, resources.expiryEveryMs),
          inject: [PrescriptionRepository],
        },
        {
          provide: EPS_SHUTDOWN,
          useFactory: (expiry: ExpiryJob) => shutdownHook(() => side.close(() => Promise.resolve(expiry.stop()))),
          inject: [ExpiryJob],
        },
        PrescriptionRepository,
        PrescribingUseCase,
        ReleaseUseCase,
        ReturnUseCase,
        TrackingUseCase,
        CancelUseCase,
        DispensingUseCase,
      ],
    };
  }
}
