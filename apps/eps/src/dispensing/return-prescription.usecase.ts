import { Injectable } from '@nestjs/common';
import {
  EPS_EVENTS,
  PRESCRIPTION_STATUS,
  type FhirResource,
  type PrescriptionEventMessage,
} from '@platform/contracts-eps';
import { PlatformError } from '@platform/shared-errors';
import { actorOf, type CallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { accepted, actingOrganisation, checkedShortFormId, invalid } from '../shared/outcomes';
import { PrescriptionHistoryRepository } from '../shared/prescription-history.repository';
import { PrescriptionRepository } from '../shared/prescription.repository';
import { AnotherDispenser } from './another-dispenser';

/** EPS-task-dispense-return-status-reason: why a pharmacy gives a prescription back. */
export const RETURN_REASONS: Record<string, string> = {
  '0001': 'Unable to dispense medication on prescriptions',
  '0002': 'Unable to dispense medication on prescriptions',
  '0003': 'Patient requested release',
  '0004': 'Invalid digital signature',
  '0005': 'Prescription cancelled',
  '0006': 'Prescription expired',
  '0007': 'Prescription dispensed elsewhere',
  '0008': 'Another dispenser requested release on behalf of the patient',
};

/** What a return Task says: which prescription, and why. */
export function readReturnTask(task: FhirResource): { shortFormId: string; reason: string } {
  if (task.resourceType !== 'Task') throw invalid('The request body must be a FHIR Task', 'Task');
  if (task['status'] !== 'rejected') throw invalid("A return is a Task with status 'rejected'", 'Task.status');
  const reason = (task['statusReason'] as { coding?: { code?: string }[] } | undefined)?.coding?.[0]?.code ?? '';
  if (!RETURN_REASONS[reason])
    throw invalid('Task.statusReason must be a return reason from 0001 to 0008', 'Task.statusReason');
  const shortFormId = checkedShortFormId(
    (task['groupIdentifier'] as { value?: string } | undefined)?.value,
    'Task.groupIdentifier.value',
  );
  return { shortFormId, reason };
}

/**
 * A return: the pharmacy holding a prescription gives it back (reason 0001-0008); it is To Be Dispensed
 * again, with no dispenser, so another pharmacy can release it. Only the holder may return it.
 */
@Injectable()
export class ReturnPrescriptionUseCase {
  constructor(
    private readonly prescriptions: PrescriptionRepository,
    private readonly history: PrescriptionHistoryRepository,
    private readonly anotherDispenser: AnotherDispenser,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
  ) {}

  async execute(task: FhirResource, context: CallContext): Promise<FhirResource> {
    const { shortFormId, reason } = readReturnTask(task);
    const pharmacy = actingOrganisation(context, 'A return must come from the pharmacy holding the prescription');
    const key = writeKey(context, 'prescription.return', task);
    const outcome = await this.writes.run(key, async (transaction) => {
      const prescription = await this.prescriptions.get(shortFormId, transaction, true);
      if (!prescription)
        throw new PlatformError('RESOURCE_NOT_FOUND', undefined, {
          diagnostics: `Prescription ${shortFormId} not found`,
        });
      if (prescription.status !== PRESCRIPTION_STATUS.withDispenser) {
        throw new PlatformError('INVALID_VALUE', undefined, {
          diagnostics: `Prescription ${shortFormId} is not with a dispenser (status ${prescription.status})`,
          expression: ['Task.groupIdentifier'],
        });
      }
      if (prescription.dispenser !== pharmacy)
        throw await this.anotherDispenser.error(shortFormId, context, prescription.dispenser);
      await this.prescriptions.markReturned(transaction, shortFormId);
      await this.history.append(transaction, {
        shortFormId,
        kind: 'returned',
        fromStatus: prescription.status,
        toStatus: PRESCRIPTION_STATUS.toBeDispensed,
        pharmacy,
        detail: `${reason} ${RETURN_REASONS[reason] ?? ''}`.trim(),
        ...actorOf(context),
      });
      const event: PrescriptionEventMessage = {
        shortFormId,
        status: PRESCRIPTION_STATUS.toBeDispensed,
        pharmacy,
        occurredAt: new Date().toISOString(),
      };
      await this.outbox.append(transaction, EPS_EVENTS.returned, event, context);
      return accepted();
    });
    this.outbox.kick();
    return outcome;
  }
}
