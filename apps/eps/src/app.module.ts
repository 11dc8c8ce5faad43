import { Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { EpsClient, EPS_SUBJECTS } from '@platform/contracts-eps';
import { N3Client } from '@platform/contracts-n3';
import { PdsClient } from '@platform/contracts-pds';
import type { Logger } from '@platform/shared-logging';
import { NatsRpcClient, type CallerAssertionSigner } from '@platform/shared-nats';
import {
  shutdownHook,
  writeSide,
  writeSideProviders,
  type Retention,
  type ServiceDatabase,
} from '@platform/shared-persistence';
import { HealthController, METRICS_REGISTRY, serviceHealth } from '@platform/shared-service';
import { EPS_DATABASE } from './database/database';
import { AnotherDispenser } from './dispensing/another-dispenser';
import { ClaimPrescriptionUseCase } from './dispensing/claim-prescription.usecase';
import { DispenseNotificationRepository } from './dispensing/dispense-notification.repository';
import { DispensingHandler } from './dispensing/dispensing.handler';
import { NotifyDispenseUseCase } from './dispensing/notify-dispense.usecase';
import { PharmacyChange } from './dispensing/pharmacy-change';
import { ReleasePrescriptionsUseCase } from './dispensing/release-prescriptions.usecase';
import { RepeatIssueRepository } from './dispensing/repeat-issue.repository';
import { ReturnPrescriptionUseCase } from './dispensing/return-prescription.usecase';
import { WithdrawDispenseUseCase } from './dispensing/withdraw-dispense.usecase';
import { CancelPrescriptionUseCase } from './prescribing/cancel-prescription.usecase';
import { CreatePrescriptionUseCase } from './prescribing/create-prescription.usecase';
import { ExpiryJob } from './prescribing/expiry';
import { PreparePrescriptionUseCase } from './prescribing/prepare-prescription.usecase';
import { PrescribingHandler } from './prescribing/prescribing.handler';
import { PrescriptionParties } from './prescribing/prescription-parties';
import { RegisterPrescriberKeyUseCase } from './prescribing/register-prescriber-key.usecase';
import { EPS_N3, EPS_PDS } from './shared/clients';
import { OpenPharmacy } from './shared/open-pharmacy';
import { PrescriberKeyRepository } from './shared/prescriber-key.repository';
import { PrescriptionHistoryRepository } from './shared/prescription-history.repository';
import { PrescriptionRepository } from './shared/prescription.repository';
import { TrackingHandler } from './tracking/tracking.handler';
import { TrackPrescriptionUseCase } from './tracking/track-prescription.usecase';

export interface EpsResources {
  database: ServiceDatabase;
  nats: NatsConnection;
  metrics: Registry;
  logger: Logger;
  retention: Retention;
  rpcTimeoutMs: number;
  /** Signs EPS's statements when it asks PDS and the registry on the caller's behalf. */
  signer: CallerAssertionSigner;
  expiryEveryMs: number;
}

const EPS_SHUTDOWN = Symbol('EPS_SHUTDOWN');

@Module({})
export class EpsModule {
  static with(resources: EpsResources): DynamicModule {
    const rpc = new NatsRpcClient(resources.nats, { timeoutMs: resources.rpcTimeoutMs, signer: resources.signer });
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
      controllers: [PrescribingHandler, DispensingHandler, TrackingHandler, HealthController, health.handler],
      providers: [
        { provide: EPS_DATABASE, useValue: resources.database },
        { provide: EPS_PDS, useValue: new PdsClient(rpc) },
        { provide: EPS_N3, useValue: new N3Client(rpc) },
        ...health.providers,
        { provide: METRICS_REGISTRY, useValue: resources.metrics },
        ...writeSideProviders(side),
        {
          provide: ExpiryJob,
          useFactory: (prescriptions: PrescriptionRepository, history: PrescriptionHistoryRepository) =>
            new ExpiryJob(
              resources.database,
              prescriptions,
              history,
              side.outbox,
              resources.logger,
              resources.expiryEveryMs,
            ),
          inject: [PrescriptionRepository, PrescriptionHistoryRepository],
        },
        {
          provide: EPS_SHUTDOWN,
          useFactory: (expiry: ExpiryJob) => shutdownHook(() => side.close(() => Promise.resolve(expiry.stop()))),
          inject: [ExpiryJob],
        },
        // Repositories
        PrescriptionRepository,
        PrescriptionHistoryRepository,
        PrescriberKeyRepository,
        DispenseNotificationRepository,
        RepeatIssueRepository,
        // Collaborators shared by use cases
        OpenPharmacy,
        PrescriptionParties,
        AnotherDispenser,
        PharmacyChange,
        // One use case per subject
        PreparePrescriptionUseCase,
        CreatePrescriptionUseCase,
        CancelPrescriptionUseCase,
        RegisterPrescriberKeyUseCase,
        ReleasePrescriptionsUseCase,
        ReturnPrescriptionUseCase,
        NotifyDispenseUseCase,
        WithdrawDispenseUseCase,
        ClaimPrescriptionUseCase,
        TrackPrescriptionUseCase,
      ],
    };
  }
}
