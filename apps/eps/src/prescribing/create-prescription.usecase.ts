import { Injectable } from '@nestjs/common';
import {
  contentDigest,
  EPS_EVENTS,
  PRESCRIPTION_STATUS,
  type CreatePrescriptionReply,
  type PrescriptionEventMessage,
} from '@platform/contracts-eps';
import { PlatformError } from '@platform/shared-errors';
import { actorOf, type CallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import type { Bundle } from '../shared/fhir';
import { accepted } from '../shared/outcomes';
import { PrescriberKeyRepository } from '../shared/prescriber-key.repository';
import { PrescriptionHistoryRepository } from '../shared/prescription-history.repository';
import { PrescriptionRepository } from '../shared/prescription.repository';
import { verifyPrescriptionSignature } from '../signing/digest';
import { PrescriptionParties } from './prescription-parties';
import { readPrescriptionOrder } from './prescription-order';

/**
 * `$process-message` (prescription-order): the NHS bundle rules; the patient must be in PDS and alive; a
 * nominated pharmacy must be an open pharmacy in the N3 registry's directory; the signature must verify with
 * the prescriber's current registered key, whose fingerprint the prescription keeps. The prescription ID is the idempotency key: a second Bundle with a used ID
 * is DUPLICATE_PRESCRIPTION_ID (a retry with the same X-Request-ID gets the first answer).
 */
@Injectable()
export class CreatePrescriptionUseCase {
  constructor(
    private readonly prescriptions: PrescriptionRepository,
    private readonly history: PrescriptionHistoryRepository,
    private readonly keys: PrescriberKeyRepository,
    private readonly parties: PrescriptionParties,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
  ) {}

  async execute(bundle: Bundle, context: CallContext): Promise<CreatePrescriptionReply> {
    const order = readPrescriptionOrder(bundle);
    const key = writeKey(context, 'prescription.create', contentDigest(bundle));
    const reply = await this.writes.run(key, async (transaction) => {
      const current = await this.keys.current(order.prescriber.sdsUserId, transaction);
      if (!current || current.revokedAt) {
        throw new PlatformError('UNKNOWN_PRESCRIBER_KEY', undefined, {
          diagnostics: `No signing key is registered for prescriber ${order.prescriber.sdsUserId}`,
          expression: ['Provenance.signature.who'],
        });
      }
      verifyPrescriptionSignature(bundle, current.publicKeyPem);
      await this.parties.check(order, context);
      // The prescription remembers the key that verified it: release verifies it with that key again.
      if (!(await this.prescriptions.insert(transaction, order, bundle, current.fingerprint))) {
        throw new PlatformError('DUPLICATE_PRESCRIPTION_ID', undefined, {
          diagnostics: `Prescription ${order.shortFormId} (or its long-form ID) has already been used`,
          expression: ['MedicationRequest.groupIdentifier'],
        });
      }
      await this.history.append(transaction, {
        shortFormId: order.shortFormId,
        kind: 'created',
        fromStatus: null,
        toStatus: PRESCRIPTION_STATUS.toBeDispensed,
        pharmacy: order.nominatedPharmacy,
        detail: `${order.itemIds.length} item(s), ${order.courseOfTherapy}`,
        ...actorOf(context),
      });
      const now = new Date();
      const event: PrescriptionEventMessage = {
        shortFormId: order.shortFormId,
        status: PRESCRIPTION_STATUS.toBeDispensed,
        pharmacy: order.nominatedPharmacy,
        occurredAt: now.toISOString(),
      };
      await this.outbox.append(transaction, EPS_EVENTS.created, event, context);
      return { shortFormId: order.shortFormId, status: PRESCRIPTION_STATUS.toBeDispensed, outcome: accepted(now) };
    });
    this.outbox.kick();
    return reply;
  }
}
