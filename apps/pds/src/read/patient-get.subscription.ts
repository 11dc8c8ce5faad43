import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import {
  GetPatientRequest,
  PATIENT_VERSION_HEADER,
  PDS_QUEUE,
  PDS_SUBJECTS,
  plainGetPatientRequest,
} from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import type { Logger } from '@platform/shared-logging';
import { serveDirect, validatePayload, type CallerAdmission } from '@platform/shared-nats';
import type { NatsConnection, Subscription } from 'nats';
import type { ReadPatientUseCase } from './read-patient.usecase';

/**
 * pds.patient.get.v1, the read every caller makes most, served by a plain NATS subscription rather than
 * through Nest's microservice transport (`serveDirect`): the same caller checks as the global guard, the same
 * payload rules as the validation pipe (`GetPatientRequest`, by hand in the common case), the same use case,
 * audit and errors; the Patient's JSON answered raw, its version in a header. Nest's dispatch, guard and pipe
 * plumbing cost more per read than this handler's own work.
 *
 * Subscribed in the service's queue group once the app has started; drained before the app's shutdown hooks
 * run, so that reads in flight are answered, and their audit entries committed, before the database closes.
 */
export class PatientGetSubscription implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private subscription?: Subscription;

  constructor(
    private readonly nats: NatsConnection,
    private readonly admission: CallerAdmission,
    private readonly readPatient: ReadPatientUseCase,
    private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.subscription = serveDirect(this.nats, {
      subject: PDS_SUBJECTS.patientGet,
      queue: PDS_QUEUE,
      admission: this.admission,
      logger: this.logger,
      parse: async (data) => {
        const plain = plainGetPatientRequest(data);
        if (plain) return plain;
        if (typeof data !== 'object' || data === null || Array.isArray(data)) {
          throw new PlatformError('INVALID_VALUE', undefined, { diagnostics: 'the request must be an object' });
        }
        return validatePayload(GetPatientRequest, data as GetPatientRequest);
      },
      handle: async (request, context) => {
        const { json, versionId } = await this.readPatient.execute(request.nhsNumber, context);
        return { body: json, headers: { [PATIENT_VERSION_HEADER]: String(versionId) } };
      },
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    if (subscription && !subscription.isClosed()) await subscription.drain();
  }
}
