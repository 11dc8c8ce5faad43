import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import type { FhirResource, PrescriptionEventMessage, PrescriptionStatus } from '@platform/contracts-eps';
import { actorOf, type CallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { accepted, actingOrganisation, invalid, prescriptionNotFound } from '../shared/outcomes';
import { PrescriptionHistoryRepository } from '../shared/prescription-history.repository';
import { PrescriptionRepository, type StoredPrescription } from '../shared/prescription.repository';
import { AnotherDispenser } from './another-dispenser';

/** What one change by a pharmacy did, to be recorded and published. */
export interface PharmacyChangeMade {
  kind: string;
  to: PrescriptionStatus;
  detail: string | null;
  subject: string;
  /** Work after the change is recorded (a change that leads to another). */
  after?: () => Promise<void>;
}

/**
 * One change by the pharmacy holding a prescription (a return, a dispense notification, a withdrawal, a claim), the
 * way each of them is made: exactly once per X-Request-ID, on the prescription's locked row, only by the
 * holder (unless the change says otherwise), recorded in its history and published through the outbox.
 */
@Injectable()
export class PharmacyChange {
  constructor(
    private readonly prescriptions: PrescriptionRepository,
    private readonly history: PrescriptionHistoryRepository,
    private readonly anotherDispenser: AnotherDispenser,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
  ) {}

  async run(
    operation: string,
    request: unknown,
    shortFormId: string,
    context: CallContext,
    work: (transaction: PoolClient, prescription: StoredPrescription, pharmacy: string) => Promise<PharmacyChangeMade>,
    options: {
      holderOnly?: boolean;
      /** A refusal by the prescription's state, which comes before the holder's (a return of one not held). */
      before?: (prescription: StoredPrescription) => void;
    } = {},
  ): Promise<FhirResource> {
    const { holderOnly = true, before } = options;
    const pharmacy = actingOrganisation(context, 'Only the pharmacy holding the prescription may do this');
    const key = writeKey(context, operation, request);
    const outcome = await this.writes.run(key, async (transaction) => {
      const prescription = await this.prescriptions.get(shortFormId, transaction, true);
      if (!prescription) throw prescriptionNotFound(shortFormId);
      before?.(prescription);
      if (holderOnly && prescription.dispenser !== pharmacy) {
        if (prescription.dispenser)
          throw await this.anotherDispenser.error(shortFormId, context, prescription.dispenser);
        throw invalid(`Prescription ${shortFormId} has not been released to ${pharmacy}`, 'groupIdentifier');
      }
      const change = await work(transaction, prescription, pharmacy);
      await this.history.append(transaction, {
        shortFormId,
        kind: change.kind,
        fromStatus: prescription.status,
        toStatus: change.to,
        pharmacy,
        detail: change.detail,
        ...actorOf(context),
      });
      const event: PrescriptionEventMessage = {
        shortFormId,
        status: change.to,
        pharmacy,
        occurredAt: new Date().toISOString(),
      };
      await this.outbox.append(transaction, change.subject, event, context);
      await change.after?.();
      return accepted();
    });
    this.outbox.kick();
    return outcome;
  }
}
