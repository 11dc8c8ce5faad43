import { Inject, Injectable } from '@nestjs/common';
import {
  contentDigest,
  EPS_EVENTS,
  PRESCRIPTION_STATUS,
  type CreatePrescriptionReply,
  type FhirResource,
  type PrescriptionEventMessage,
} from '@platform/contracts-eps';
import type { N3Api } from '@platform/contracts-n3';
import type { PdsApi } from '@platform/contracts-pds';
import { PlatformError } from '@platform/shared-errors';
import { actorOf, type CallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { prepareParameters, verifyPrescriptionSignature } from '../signing/digest';
import type { Bundle } from './fhir';
import { accepted } from './outcomes';
import { PrescriptionRepository } from './prescription.repository';
import { readPrescriptionOrder, type PrescriptionOrder } from './prescription-order';

export const EPS_PDS = Symbol('EPS_PDS');
export const EPS_N3 = Symbol('EPS_N3');

/**
 * `$prepare` and `$process-message` (prescription-order): the NHS bundle rules; the patient must be in PDS
 * and alive; a nominated pharmacy must be an open pharmacy in the N3 registry's directory; the signature
 * must verify with the prescriber's registered key. The prescription ID is the idempotency key: a second
 * Bundle with a used ID is DUPLICATE_PRESCRIPTION_ID (a retry with the same X-Request-ID gets the first
 * answer).
 */
@Injectable()
export class PrescribingUseCase {
  constructor(
    private readonly prescriptions: PrescriptionRepository,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
    @Inject(EPS_PDS) private readonly pds: PdsApi,
    @Inject(EPS_N3) private readonly n3: N3Api,
  ) {}

  async prepare(bundle: Bundle, context: CallContext): Promise<FhirResource> {
    const order = readPrescriptionOrder(bundle);
    await this.checkParties(order, context);
    return prepareParameters(bundle, new Date());
  }

  async create(bundle: Bundle, context: CallContext): Promise<CreatePrescriptionReply> {
    const order = readPrescriptionOrder(bundle);
    const key = writeKey(context, 'prescription.create', contentDigest(bundle));
    const reply = await this.writes.run(key, async (transaction) => {
      const publicKey = await this.prescriptions.publicKey(order.prescriber.sdsUserId, transaction);
      if (!publicKey) {
        throw new PlatformError('UNKNOWN_PRESCRIBER_KEY', undefined, {
          diagnostics: `No signing key is registered for prescriber ${order.prescriber.sdsUserId}`,
          expression: ['Provenance.signature.who'],
        });
      }
      verifyPrescriptionSignature(bundle, publicKey);
      await this.checkParties(order, context);
      if (!(await this.prescriptions.insert(transaction, order, bundle))) {
        throw new PlatformError('DUPLICATE_PRESCRIPTION_ID', undefined, {
          diagnostics: `Prescription ${order.shortFormId} (or its long-form ID) has already been used`,
          expression: ['MedicationRequest.groupIdentifier'],
        });
      }
      await this.prescriptions.appendEvent(transaction, {
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

  /** The patient exists in PDS and is alive; a nominated pharmacy is an open pharmacy. */
  private async checkParties(order: PrescriptionOrder, context: CallContext): Promise<void> {
    const [patient] = await Promise.all([
      this.pds.getPatient({ nhsNumber: order.patientNhsNumber }, context).catch((error: unknown) => {
        if (error instanceof PlatformError && ['RESOURCE_NOT_FOUND', 'INVALIDATED_RESOURCE'].includes(error.code)) {
          throw new PlatformError('INVALID_VALUE', undefined, {
            diagnostics: `Patient ${order.patientNhsNumber} is not known to PDS`,
            expression: ['Patient.identifier'],
          });
        }
        throw error;
      }),
      order.nominatedPharmacy ? this.pharmacy(order.nominatedPharmacy, context) : Promise.resolve(null),
    ]);
    const deceased = patient.patient['deceasedDateTime'] ?? patient.patient['deceasedBoolean'];
    if (deceased !== undefined && deceased !== false) {
      throw new PlatformError('PATIENT_DECEASED', undefined, {
        diagnostics: `Patient ${order.patientNhsNumber} is recorded in PDS as deceased`,
        expression: ['Patient.identifier'],
      });
    }
  }

  async pharmacy(odsCode: string, context: CallContext): Promise<void> {
    const unknown = (): PlatformError =>
      new PlatformError('INVALID_VALUE', undefined, {
        diagnostics: `Nominated pharmacy ${odsCode} is not an open pharmacy in the organisation directory`,
        expression: ['MedicationRequest.dispenseRequest.performer'],
      });
    const organisation = await this.n3.getOrganisation({ odsCode }, context).catch((error: unknown) => {
      if (error instanceof PlatformError && error.code === 'ORGANISATION_NOT_FOUND') throw unknown();
      throw error;
    });
    if (organisation.role !== 'pharmacy' || organisation.status !== 'active') throw unknown();
  }
}
