import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import {
  EPS_EVENTS,
  PRESCRIPTION_STATUS,
  type FhirResource,
  type PrescriptionEventMessage,
  type PrescriptionStatus,
} from '@platform/contracts-eps';
import { PlatformError } from '@platform/shared-errors';
import { actorOf, type CallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { resourcesOf, type Bundle, type Resource } from '../prescribing/fhir';
import { messageEvent } from '../prescribing/prescription-order';
import { PrescriptionRepository, type StoredPrescription } from '../prescribing/prescription.repository';

import { accepted, checkedShortFormId, invalid } from '../prescribing/outcomes';
import { ReleaseUseCase } from './release.usecase';

const NOTIFIED_STATUSES: readonly string[] = [
  PRESCRIPTION_STATUS.withDispenserActive,
  PRESCRIPTION_STATUS.dispensed,
  PRESCRIPTION_STATUS.notDispensed,
];
/** EPS-task-dispense-withdraw-reason. */
const WITHDRAW_REASONS = ['QU', 'MU', 'DA', 'PA', 'ONC', 'ALTP'];
const ENDORSEMENT_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/medicationdispense-endorsement';

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

/** What a withdrawal Task says: which prescription, which notification, why. */
export function readWithdrawTask(task: FhirResource): { shortFormId: string; notificationId: string; reason: string } {
  if (task.resourceType !== 'Task' || task['status'] !== 'in-progress')
    throw invalid("A withdrawal is a Task with status 'in-progress'", 'Task.status');
  if ((task['code'] as { coding?: { code?: string }[] } | undefined)?.coding?.[0]?.code !== 'abort')
    throw invalid("A withdrawal's Task.code is 'abort'", 'Task.code');
  const reason = (task['statusReason'] as { coding?: { code?: string }[] } | undefined)?.coding?.[0]?.code ?? '';
  if (!WITHDRAW_REASONS.includes(reason))
    throw invalid(
      `Task.statusReason must be a withdrawal reason (${WITHDRAW_REASONS.join(', ')})`,
      'Task.statusReason',
    );
  const notificationId = (task['focus'] as { identifier?: { value?: string } } | undefined)?.identifier?.value;
  if (!notificationId)
    throw new PlatformError('MISSING_FIELD', undefined, {
      diagnostics: 'Task.focus.identifier (the dispense notification) is missing',
    });
  return {
    shortFormId: checkedShortFormId(
      (task['groupIdentifier'] as { value?: string } | undefined)?.value,
      'Task.groupIdentifier.value',
    ),
    notificationId,
    reason,
  };
}

/** What a Claim says: which prescription; every item must carry an endorsement. */
export function readClaim(claim: FhirResource): { shortFormId: string } {
  if (claim.resourceType !== 'Claim') throw invalid('The request body must be a FHIR Claim', 'Claim');
  const group = (
    (
      claim['prescription'] as
        | { extension?: { url?: string; extension?: { url?: string; valueIdentifier?: { value?: string } }[] }[] }
        | undefined
    )?.extension ?? []
  ).find((extension) => extension.url?.endsWith('Extension-DM-GroupIdentifier'));
  const shortFormId = group?.extension?.find((extension) => extension.url === 'shortForm')?.valueIdentifier?.value;
  const details = (
    (claim['item'] ?? []) as { detail?: { programCode?: { coding?: { system?: string }[] }[] }[] }[]
  ).flatMap((item) => item.detail ?? []);
  if (details.length === 0)
    throw new PlatformError('MISSING_FIELD', undefined, { diagnostics: 'The Claim has no item details' });
  for (const detail of details) {
    const endorsed = (detail.programCode ?? []).some((code) =>
      (code.coding ?? []).some((coding) => coding.system === ENDORSEMENT_SYSTEM),
    );
    if (!endorsed)
      throw invalid(
        'Every claimed item needs an endorsement code (medicationdispense-endorsement)',
        'Claim.item.detail.programCode',
      );
  }
  return { shortFormId: checkedShortFormId(shortFormId, 'Claim.prescription.extension') };
}

/**
 * After release: dispense notifications (0003 partly dispensed, 0006 dispensed, 0007 not dispensed), an
 * amendment replacing only the latest, withdrawal of the latest (back to the status before it), and the claim
 * (0008). Only the pharmacy holding the prescription may do any of these.
 */
@Injectable()
export class DispensingUseCase {
  constructor(
    private readonly prescriptions: PrescriptionRepository,
    private readonly releases: ReleaseUseCase,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
  ) {}

  notify(bundle: Bundle, context: CallContext): Promise<FhirResource> {
    const notification = readDispenseNotification(bundle);
    return this.change(
      'prescription.dispense',
      bundle,
      notification.shortFormId,
      context,
      async (transaction, prescription, pharmacy) => {
        const latest = await this.prescriptions.latestNotification(
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
        const recorded = await this.prescriptions.insertNotification(transaction, {
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
                  await this.prescriptions.completeIssue(
                    transaction,
                    { ...prescription, dispenser: pharmacy },
                    notification.status,
                  );
                  await this.prescriptions.appendEvent(transaction, {
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

  withdraw(task: FhirResource, context: CallContext): Promise<FhirResource> {
    const withdrawal = readWithdrawTask(task);
    return this.change(
      'prescription.withdraw',
      task,
      withdrawal.shortFormId,
      context,
      async (transaction, prescription) => {
        const latest = await this.prescriptions.latestNotification(
          transaction,
          withdrawal.shortFormId,
          prescription.currentIssue,
        );
        if (!latest || latest.id !== withdrawal.notificationId) {
          throw invalid('Only the latest dispense notification of a prescription can be withdrawn', 'Task.focus');
        }
        await this.prescriptions.withdrawNotification(transaction, latest.id);
        await this.prescriptions.setStatus(transaction, withdrawal.shortFormId, latest.statusBefore);
        return {
          kind: 'dispense-withdrawn',
          to: latest.statusBefore,
          detail: `${latest.id} (${withdrawal.reason})`,
          subject: EPS_EVENTS.dispenseWithdrawn,
        };
      },
    );
  }

  claim(claim: FhirResource, context: CallContext): Promise<FhirResource> {
    const { shortFormId } = readClaim(claim);
    return this.change(
      'prescription.claim',
      claim,
      shortFormId,
      context,
      async (transaction, prescription, pharmacy) => {
        const current = [PRESCRIPTION_STATUS.dispensed, PRESCRIPTION_STATUS.notDispensed].includes(
          prescription.status as '0006',
        );
        if (current && prescription.dispenser === pharmacy) {
          await this.prescriptions.setStatus(transaction, shortFormId, PRESCRIPTION_STATUS.claimed);
          return { kind: 'claimed', to: PRESCRIPTION_STATUS.claimed, detail: null, subject: EPS_EVENTS.claimed };
        }
        // Repeat dispensing: an earlier issue this pharmacy dispensed, claimed after the next one started.
        const issue = await this.prescriptions.claimCompletedIssue(transaction, shortFormId, pharmacy);
        if (issue !== null) {
          return {
            kind: 'claimed',
            to: PRESCRIPTION_STATUS.claimed,
            detail: `issue ${issue}`,
            subject: EPS_EVENTS.claimed,
          };
        }
        if (prescription.dispenser && prescription.dispenser !== pharmacy) {
          throw await this.releases.withAnotherDispenser(shortFormId, context, prescription.dispenser);
        }
        throw invalid(
          `Prescription ${shortFormId} is ${prescription.status}: only a dispensed (0006) or not dispensed (0007) prescription is claimed`,
          'Claim.prescription',
        );
      },
      { holderOnly: false },
    );
  }

  /** One change by the holding pharmacy, exactly once per X-Request-ID, recorded and published. */
  private async change(
    operation: string,
    request: unknown,
    shortFormId: string,
    context: CallContext,
    work: (
      transaction: PoolClient,
      prescription: StoredPrescription,
      pharmacy: string,
    ) => Promise<{
      kind: string;
      to: PrescriptionStatus;
      detail: string | null;
      subject: string;
      /** Work after the change is recorded (a change that leads to another). */
      after?: () => Promise<void>;
    }>,
    options: { holderOnly: boolean } = { holderOnly: true },
  ): Promise<FhirResource> {
    const pharmacy = context.caller?.organisation;
    if (!pharmacy)
      throw new PlatformError('ACCESS_DENIED', undefined, {
        diagnostics: 'Only the pharmacy holding the prescription may do this',
      });
    const key = writeKey(context, operation, request);
    const outcome = await this.writes.run(key, async (transaction) => {
      const prescription = await this.prescriptions.get(shortFormId, transaction, true);
      if (!prescription)
        throw new PlatformError('RESOURCE_NOT_FOUND', undefined, {
          diagnostics: `Prescription ${shortFormId} not found`,
        });
      if (options.holderOnly && prescription.dispenser !== pharmacy) {
        if (prescription.dispenser)
          throw await this.releases.withAnotherDispenser(shortFormId, context, prescription.dispenser);
        throw invalid(`Prescription ${shortFormId} has not been released to ${pharmacy}`, 'groupIdentifier');
      }
      const change = await work(transaction, prescription, pharmacy);
      await this.prescriptions.appendEvent(transaction, {
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
