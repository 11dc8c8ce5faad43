import { Injectable } from '@nestjs/common';
import {
  EPS_EVENTS,
  PRESCRIPTION_STATUS,
  type FhirResource,
  type PrescriptionEventMessage,
  type PrescriptionStatus,
} from '@platform/contracts-eps';
import { PlatformError } from '@platform/shared-errors';
import { actorOf, type CallContext } from '@platform/shared-nats';
import { Outbox } from '@platform/shared-persistence';
import { resourcesOf, type Bundle, type Resource } from '../shared/fhir';
import { messageEvent } from '../shared/message-event';
import { checkedShortFormId, invalid } from '../shared/outcomes';
import { PrescriptionHistoryRepository } from '../shared/prescription-history.repository';
import { PrescriptionRepository } from '../shared/prescription.repository';
import { DispenseNotificationRepository } from './dispense-notification.repository';
import { PharmacyChange } from './pharmacy-change';
import { RepeatIssueRepository } from './repeat-issue.repository';

const NOTIFIED_STATUSES: readonly string[] = [
  PRESCRIPTION_STATUS.withDispenserActive,
  PRESCRIPTION_STATUS.dispensed,
  PRESCRIPTION_STATUS.notDispensed,
];

/** What a dispense notification says: which prescription, the status it leaves, which notification it replaces. */
export function readDispenseNotification(bundle: Bundle): {
  id: string;
  shortFormId: string;
  status: PrescriptionStatus;
  replaces: string | null;
} {
  if (messageEvent(bundle) !== 'dispense-notification')
    throw invalid("MessageHeader.eventCoding must be 'dispense-notification'", 'MessageHeader.eventCoding');
  const id = bundle.identifier?.value;
  if (!id)
    throw new PlatformError('MISSING_FIELD', undefined, {
      diagnostics: 'Bundle.identifier (the notification ID) is missing',
    });
  const dispenses = resourcesOf(bundle, 'MedicationDispense');
  if (dispenses.length === 0)
    throw new PlatformError('MISSING_FIELD', undefined, { diagnostics: 'The Bundle holds no MedicationDispense' });
  const ids = new Set<unknown>();
  const statuses = new Set<string>();
  const nonDispensingReasons = new Set<string>();
  for (const dispense of dispenses) {
    const contained = (dispense['contained'] ?? []) as Resource[];
    const reference = ((dispense['authorizingPrescription'] ?? []) as { reference?: string }[])[0]?.reference?.replace(
      /^#/,
      '',
    );
    const request = contained.find(
      (resource) => resource.resourceType === 'MedicationRequest' && resource.id === reference,
    );
    ids.add((request?.['groupIdentifier'] as { value?: string } | undefined)?.value);
    const status = ((dispense['extension'] ?? []) as { url?: string; valueCoding?: { code?: string } }[]).find(
      (extension) => extension.url?.endsWith('Extension-EPS-TaskBusinessStatus'),
    )?.valueCoding?.code;
    statuses.add(status ?? '');
    const reason = ((dispense['extension'] ?? []) as { url?: string; valueCoding?: { code?: string } }[]).find(
      (extension) => extension.url?.endsWith('Extension-DM-PrescriptionNonDispensingReason'),
    )?.valueCoding?.code;
    nonDispensingReasons.add(reason ?? '');
  }
  if (nonDispensingReasons.size > 1) {
    throw invalid(
      'Expected all MedicationDispenses to have the same value for MedicationDispense.extension:prescriptionNonDispensingReason',
      'MedicationDispense.extension:prescriptionNonDispensingReason',
    );
  }
  if (ids.size !== 1)
    throw invalid(
      'Every MedicationDispense must authorise from the same prescription',
      'MedicationDispense.authorizingPrescription',
    );
  const [status] = [...statuses];
  if (statuses.size !== 1 || !status || !NOTIFIED_STATUSES.includes(status)) {
    throw invalid(
      'The prescription status (Extension-EPS-TaskBusinessStatus) must be 0003, 0006 or 0007, the same on every MedicationDispense',
      'MedicationDispense.extension',
    );
  }
  const header = resourcesOf(bundle, 'MessageHeader')[0];
  const replaces = ((header?.['extension'] ?? []) as { url?: string; valueIdentifier?: { value?: string } }[]).find(
    (extension) => extension.url?.endsWith('Extension-replacementOf'),
  )?.valueIdentifier?.value;
  return {
    id,
    shortFormId: checkedShortFormId([...ids][0], 'MedicationRequest.groupIdentifier.value'),
    status: status as PrescriptionStatus,
    replaces: replaces ?? null,
  };
}

/**
 * A dispense notification from the holding pharmacy: 0003 partly dispensed, 0006 dispensed, 0007 not
 * dispensed; an amendment (`replacementOf`) may replace only the latest. For repeat dispensing, a finished
 * issue waits for its claim and the next one becomes To Be Dispensed.
 */
@Injectable()
export class NotifyDispenseUseCase {
  constructor(
    private readonly change: PharmacyChange,
    private readonly prescriptions: PrescriptionRepository,
    private readonly notifications: DispenseNotificationRepository,
    private readonly issues: RepeatIssueRepository,
    private readonly history: PrescriptionHistoryRepository,
    private readonly outbox: Outbox,
  ) {}

  execute(bundle: Bundle, context: CallContext): Promise<FhirResource> {
    const notification = readDispenseNotification(bundle);
    return this.change.run(
      'prescription.dispense',
      bundle,
      notification.shortFormId,
      context,
      async (transaction, prescription, pharmacy) => {
        const latest = await this.notifications.latest(
          transaction,
          notification.shortFormId,
          prescription.currentIssue,
        );
        if (notification.replaces) {
          if (!latest || latest.id !== notification.replaces) {
            throw invalid(
              'Only the latest dispense notification of a prescription can be amended',
              'MessageHeader.extension(replacementOf)',
            );
          }
        } else if (
          ![PRESCRIPTION_STATUS.withDispenser, PRESCRIPTION_STATUS.withDispenserActive].includes(
            prescription.status as '0002',
          )
        ) {
          throw invalid(
            `Prescription ${notification.shortFormId} is ${prescription.status}: send an amendment (replacementOf) to change its last notification`,
            'MessageHeader',
          );
        }
        const before = notification.replaces && latest ? latest.statusBefore : prescription.status;
        const recorded = await this.notifications.insert(transaction, {
          id: notification.id,
          shortFormId: notification.shortFormId,
          issue: prescription.currentIssue,
          pharmacy,
          before,
          after: notification.status,
          bundle,
          replaces: notification.replaces,
        });
        if (!recorded) throw invalid(`Dispense notification ${notification.id} was sent before`, 'Bundle.identifier');
        await this.prescriptions.setStatus(transaction, notification.shortFormId, notification.status);
        const issue = `issue ${prescription.currentIssue} of ${prescription.issuesTotal}`;
        const done = notification.status !== PRESCRIPTION_STATUS.withDispenserActive;
        return {
          kind: notification.replaces ? 'dispense-amended' : 'dispensed',
          to: notification.status,
          detail: `${notification.id}${prescription.issuesTotal > 1 ? ` (${issue})` : ''}`,
          subject: EPS_EVENTS.dispensed,
          after:
            done && !notification.replaces && prescription.currentIssue < prescription.issuesTotal
              ? async () => {
                  // Repeat dispensing: this issue waits for its claim; the next one is To Be Dispensed now.
                  await this.issues.complete(
                    transaction,
                    { ...prescription, dispenser: pharmacy },
                    notification.status,
                  );
                  await this.history.append(transaction, {
                    shortFormId: notification.shortFormId,
                    kind: 'next-issue',
                    fromStatus: notification.status,
                    toStatus: PRESCRIPTION_STATUS.toBeDispensed,
                    pharmacy: null,
                    detail: `issue ${prescription.currentIssue + 1} of ${prescription.issuesTotal} releasable`,
                    ...actorOf(context),
                  });
                  const next: PrescriptionEventMessage = {
                    shortFormId: notification.shortFormId,
                    status: PRESCRIPTION_STATUS.toBeDispensed,
                    pharmacy: null,
                    occurredAt: new Date().toISOString(),
                  };
                  await this.outbox.append(transaction, EPS_EVENTS.nextIssue, next, context);
                }
              : undefined,
        };
      },
    );
  }
}
