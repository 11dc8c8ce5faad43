import { Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { EReferralsClient, ERS_SUBJECT_POLICIES, ERS_SUBJECTS } from '@platform/contracts-ers';
import { N3Client } from '@platform/contracts-n3';
import { PdsClient } from '@platform/contracts-pds';
import type { Logger } from '@platform/shared-logging';
import {
  CallerAdmission,
  NatsRpcClient,
  type CallerAssertionSigner,
  type CallerAssertionVerifier,
} from '@platform/shared-nats';
import { shutdownHook, writeSide, writeSideProviders, type Retention } from '@platform/shared-persistence';
import { HealthController, METRICS_REGISTRY, serviceHealth } from '@platform/shared-service';
import { E_REFERRALS_DATABASE, type EReferralsDatabase } from './database/database.provider';
import { DirectoryReadsUseCase } from './directory/directory-reads.usecase';
import { DirectoryRepository } from './directory/directory.repository';
import { PublishServiceUseCase } from './directory/publish-service.usecase';
import { PublishSlotsUseCase } from './directory/publish-slots.usecase';
import { WorklistUseCase } from './provider/worklist.usecase';
import { PractitionersRepository } from './provider/practitioners.repository';
import { PractitionersUseCase } from './provider/practitioners.usecase';
import { ProviderHandler } from './provider/provider.handler';
import { BookAppointmentUseCase } from './referrals/book-appointment.usecase';
import { CreateReferralUseCase } from './referrals/create-referral.usecase';
import { ErsHandler } from './referrals/ers.handler';
import { ErsDirectSubscriptions } from './referrals/ers-direct.subscription';
import { BookingRepository } from './referrals/booking.repository';
import { ReferralChanges } from './referrals/referral-changes';
import {
  CancelAppointmentActionLaterUseCase,
  CancelAppointmentUseCase,
  CancelReferralUseCase,
  ChangeShortlistUseCase,
  ProviderDecisionUseCase,
} from './referrals/referral-lifecycle.usecase';
import { ReferralLettersRepository } from './referrals/referral-letters';
import { ReferralReadsUseCase } from './referrals/referral-reads.usecase';
import { ReferralRepository } from './referrals/referral.repository';
import { ERS_N3, ERS_PDS } from './shared/clients';
import { PatientAccessRepository } from './patient/patient-access.repository';
import { PatientBookingUseCase } from './patient/patient-booking.usecase';
import { PatientHandler } from './patient/patient.handler';
import { LettersHandler } from './letters/letters.handler';
import { PatientLetterUseCase } from './letters/patient-letter.usecase';
import { AttachmentsHandler } from './attachments/attachments.handler';
import { AttachmentsUseCase, ERS_NATS } from './attachments/attachments.usecase';
import { AdviceHandler } from './advice/advice.handler';
import { AdviceUseCase } from './advice/advice.usecase';
import { Actors } from './shared/caller';
import { Organisations } from './shared/organisations';

export interface EReferralsResources {
  database: EReferralsDatabase;
  nats: NatsConnection;
  metrics: Registry;
  logger: Logger;
  retention: Retention;
  rpcTimeoutMs: number;
  /** Signs e-referrals's statements when it asks PDS and the registry on the caller's behalf. */
  signer: CallerAssertionSigner;
  /** Verifies callers' statements on the subjects served without Nest (`ErsDirectSubscriptions`). */
  verifier: CallerAssertionVerifier;
}

@Module({})
export class EReferralsModule {
  /** The service wired to resources opened (and migrated) before Nest starts. */
  static with(resources: EReferralsResources): DynamicModule {
    const rpc = new NatsRpcClient(resources.nats, { timeoutMs: resources.rpcTimeoutMs, signer: resources.signer });
    const self = new EReferralsClient(new NatsRpcClient(resources.nats, { timeoutMs: 1500 }));
    const health = serviceHealth({
      service: 'e-referrals',
      subject: ERS_SUBJECTS.healthCheck,
      pool: resources.database.pool,
      self: (context) => self.health(context),
    });
    const side = writeSide(resources, 'e-referrals');
    return {
      module: EReferralsModule,
      controllers: [
        ErsHandler,
        PatientHandler,
        LettersHandler,
        AttachmentsHandler,
        AdviceHandler,
        ProviderHandler,
        HealthController,
        health.handler,
      ],
      providers: [
        { provide: E_REFERRALS_DATABASE, useValue: resources.database },
        { provide: ERS_PDS, useValue: new PdsClient(rpc) },
        { provide: ERS_N3, useValue: new N3Client(rpc) },
        ...health.providers,
        { provide: METRICS_REGISTRY, useValue: resources.metrics },
        // On shutdown: the write side stops (the outbox relays its last pass), then NATS and the database close.
        { provide: 'E_REFERRALS_SHUTDOWN', useValue: shutdownHook(() => side.close()) },
        ...writeSideProviders(side),
        DirectoryRepository,
        ReferralRepository,
        Organisations,
        ReferralChanges,
        BookingRepository,
        DirectoryReadsUseCase,
        PublishServiceUseCase,
        PublishSlotsUseCase,
        CreateReferralUseCase,
        BookAppointmentUseCase,
        ReferralReadsUseCase,
        ReferralLettersRepository,
        CancelReferralUseCase,
        CancelAppointmentUseCase,
        ChangeShortlistUseCase,
        ProviderDecisionUseCase,
        WorklistUseCase,
        {
          provide: ErsDirectSubscriptions,
          useFactory: (
            book: BookAppointmentUseCase,
            directoryReads: DirectoryReadsUseCase,
            worklist: WorklistUseCase,
          ) =>
            new ErsDirectSubscriptions(
              resources.nats,
              new CallerAdmission(resources.verifier, ERS_SUBJECT_POLICIES, resources.logger),
              { book, directoryReads, worklist },
              resources.logger,
            ),
          inject: [BookAppointmentUseCase, DirectoryReadsUseCase, WorklistUseCase],
        },
        PractitionersRepository,
        Actors,
        PractitionersUseCase,
        CancelAppointmentActionLaterUseCase,
        PatientAccessRepository,
        PatientBookingUseCase,
        PatientLetterUseCase,
        { provide: ERS_NATS, useValue: resources.nats },
        AttachmentsUseCase,
        AdviceUseCase,
      ],
    };
  }
}
