import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import {
  CANCELLATION_CODE_SYSTEM,
  EPS_EVENTS,
  type FhirResource,
  type PrescriptionEventMessage,
  type PrescriptionStatus,
} from '@platform/contracts-eps';
import { PlatformError } from '@platform/shared-errors';
import { actorOf, type CallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import {
  identifierValue,
  resolve,
  resourcesOf,
  SYSTEMS,
  type Bundle,
  type Reference,
  type Resource,
} from '../shared/fhir';
import { messageEvent } from '../shared/message-event';
import { actingOrganisation, checkedShortFormId, invalid, missing } from '../shared/outcomes';
import { PrescriptionHistoryRepository } from '../shared/prescription-history.repository';
import { PrescriptionRepository } from '../shared/prescription.repository';

/** The R-codes of a cancellation, as the NHS words them. */
export const CANCELLATION_OUTCOMES = {
  'R-0001': 'Prescription/item was cancelled',
  'R-0002': 'Prescription/item was not cancelled. With dispenser. Marked for cancellation',
  'R-0003': 'Prescription/item was not cancelled. With dispenser active. Marked for cancellation',
  'R-0004': 'Prescription/item was not cancelled. Prescription has been dispensed.',
  'R-0005': 'Prescription/item has expired',
  'R-0006': 'Prescription/item had already been cancelled',
  'R-0007': 'Prescription/item cancellation requested by another prescriber',
  'R-0008': 'Prescription/item not found',
  'R-0010': 'Prescription/item was not cancelled. Prescription has been not dispensed.',
} as const;
type Outcome = keyof typeof CANCELLATION_OUTCOMES;

/** What a prescription's status means for cancelling one of its items. */
const BY_STATUS: Record<PrescriptionStatus, Outcome> = {
  '0001': 'R-0001',
  '0002': 'R-0002',
  '0003': 'R-0003',
  '0004': 'R-0005',
  '0005': 'R-0006',
  '0006': 'R-0004',
  '0007': 'R-0010',
  '0008': 'R-0004',
};

/** What a prescription-order-update says: which prescription, which items (status cancelled), which patient. */
export function readCancellation(bundle: Bundle): {
  shortFormId: string;
  items: Resource[];
  nhsNumber: string | undefined;
} {
  if (messageEvent(bundle) !== 'prescription-order-update') {
    throw invalid("MessageHeader.eventCoding must be 'prescription-order-update'", 'MessageHeader.eventCoding');
  }
  const items = resourcesOf(bundle, 'MedicationRequest');
  if (items.length === 0) throw missing('The Bundle names no MedicationRequest to cancel');
  const ids = new Set(items.map((item) => (item['groupIdentifier'] as { value?: string } | undefined)?.value));
  const shortFormId = checkedShortFormId(
    ids.size === 1 ? [...ids][0] : undefined,
    'MedicationRequest.groupIdentifier.value',
  );
  for (const item of items) {
    if (item['status'] !== 'cancelled')
      throw invalid("A cancellation's MedicationRequests have status 'cancelled'", 'MedicationRequest.status');
  }
  const nhsNumber = identifierValue(resolve(bundle, items[0]?.['subject'] as Reference | undefined), SYSTEMS.nhsNumber);
  return { shortFormId, items, nhsNumber };
}

/**
 * `$process-message` with prescription-order-update: the prescriber cancels items. The answer is the NHS's
 * prescription-order-response Bundle, each item with its R-code: cancelled while To Be Dispensed (R-0001; the
 * prescription is Cancelled, 0005, when every item is), marked for cancellation while a pharmacy holds it
 * (R-0002, the pharmacy told by `eps.prescription.cancellation-requested.v1`), or why not (dispensed,
 * expired, already cancelled, another prescriber's). A cancel and a release of one prescription take the same
 * row lock, so whichever comes second sees what the first did.
 */
@Injectable()
export class CancelPrescriptionUseCase {
  constructor(
    private readonly prescriptions: PrescriptionRepository,
    private readonly history: PrescriptionHistoryRepository,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
  ) {}

  async execute(bundle: Bundle, context: CallContext): Promise<FhirResource> {
    const { shortFormId, items, nhsNumber } = readCancellation(bundle);
    const organisation = actingOrganisation(context, "Only the prescriber's organisation may cancel a prescription");
    const key = writeKey(context, 'prescription.cancel', bundle);
    const response = await this.writes.run(key, async (transaction) => {
      const prescription = await this.prescriptions.get(shortFormId, transaction, true);
      if (!prescription) throw new PlatformError('R-0008', undefined, { diagnostics: CANCELLATION_OUTCOMES['R-0008'] });
      if (nhsNumber !== prescription.patientNhsNumber) {
        throw new PlatformError('R-5000', undefined, {
          diagnostics:
            'Unable to process message. Information missing or invalid - Mismatch between prescription and cancellation NHS number',
        });
      }
      const anotherPrescriber = organisation !== prescription.prescriberOds;
      const outcomes = items.map((item) => {
        const itemId = ((item['identifier'] ?? []) as { value?: string }[])[0]?.value ?? '';
        let outcome: Outcome;
        if (!prescription.itemIds.includes(itemId)) outcome = 'R-0008';
        else if (anotherPrescriber) outcome = 'R-0007';
        else if (prescription.cancelledItemIds.includes(itemId)) outcome = 'R-0006';
        else outcome = BY_STATUS[prescription.status];
        return { item, itemId, outcome };
      });
      const cancelled = outcomes.filter((entry) => entry.outcome === 'R-0001').map((entry) => entry.itemId);
      const marked = outcomes
        .filter((entry) => entry.outcome === 'R-0002' || entry.outcome === 'R-0003')
        .map((entry) => entry.itemId);
      const now = new Date();
      if (cancelled.length > 0) {
        const status = await this.prescriptions.cancelItems(transaction, shortFormId, cancelled);
        await this.record(
          transaction,
          shortFormId,
          prescription.status,
          status,
          'cancelled',
          `items ${cancelled.join(', ')}`,
          null,
          context,
          EPS_EVENTS.cancelled,
        );
      }
      if (marked.length > 0) {
        await this.prescriptions.requestCancellation(transaction, shortFormId, marked);
        await this.record(
          transaction,
          shortFormId,
          prescription.status,
          prescription.status,
          'cancellation-requested',
          `items ${marked.join(', ')}`,
          prescription.dispenser,
          context,
          EPS_EVENTS.cancellationRequested,
        );
      }
      return this.responseBundle(bundle, outcomes, now);
    });
    this.outbox.kick();
    return response;
  }

  private async record(
    transaction: PoolClient,
    shortFormId: string,
    from: PrescriptionStatus,
    to: PrescriptionStatus,
    kind: string,
    detail: string,
    pharmacy: string | null,
    context: CallContext,
    subject: string,
  ): Promise<void> {
    await this.history.append(transaction, {
      shortFormId,
      kind,
      fromStatus: from,
      toStatus: to,
      pharmacy,
      detail,
      ...actorOf(context),
    });
    const event: PrescriptionEventMessage = { shortFormId, status: to, pharmacy, occurredAt: new Date().toISOString() };
    await this.outbox.append(transaction, subject, event, context);
  }

  /** The prescription-order-response: the request's resources, each item with its status and R-code. */
  private responseBundle(request: Bundle, outcomes: { item: Resource; outcome: Outcome }[], now: Date): FhirResource {
    const header = resourcesOf(request, 'MessageHeader')[0];
    const byItem = new Map(outcomes.map((entry) => [entry.item, entry.outcome]));
    const entries = (request.entry ?? [])
      .filter((entry) => entry.resource?.resourceType !== 'Provenance')
      .map((entry) => {
        const resource = entry.resource as Resource;
        if (resource.resourceType === 'MessageHeader') {
          return {
            fullUrl: `urn:uuid:${randomUUID()}`,
            resource: {
              resourceType: 'MessageHeader',
              eventCoding: {
                system: 'https://fhir.nhs.uk/CodeSystem/message-event',
                code: 'prescription-order-response',
                display: 'Prescription Order Response',
              },
              response: { identifier: request.identifier?.value ?? header?.id ?? '', code: 'ok' },
              sender: { identifier: { system: SYSTEMS.odsCode, value: 'X2601' }, display: 'NHS Digital Spine' },
              source: { name: 'NHS Spine', endpoint: 'https://directory.spineservices.nhs.uk/STU3/Organization/X2601' },
              focus: header?.['focus'],
            },
          };
        }
        const outcome = byItem.get(resource);
        if (!outcome) return entry;
        const extensions = ((resource['extension'] ?? []) as Record<string, unknown>[]).filter(
          (extension) =>
            extension['url'] !== 'https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionStatusHistory',
        );
        return {
          ...entry,
          resource: {
            ...resource,
            status: outcome === 'R-0001' ? 'cancelled' : 'active',
            extension: [
              ...extensions,
              {
                url: 'https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionStatusHistory',
                extension: [
                  {
                    url: 'status',
                    valueCoding: {
                      system: CANCELLATION_CODE_SYSTEM,
                      code: outcome,
                      display: CANCELLATION_OUTCOMES[outcome],
                    },
                  },
                  { url: 'statusDate', valueDateTime: now.toISOString() },
                ],
              },
            ],
          },
        };
      });
    return {
      resourceType: 'Bundle',
      id: randomUUID(),
      identifier: { system: 'https://tools.ietf.org/html/rfc4122', value: randomUUID() },
      type: 'message',
      timestamp: now.toISOString(),
      entry: entries,
    };
  }
}
