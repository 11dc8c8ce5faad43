import { Injectable } from '@nestjs/common';
import { EPS_EVENTS, PRESCRIPTION_STATUS, type FhirResource } from '@platform/contracts-eps';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { checkedShortFormId, invalid } from '../shared/outcomes';
import { PrescriptionRepository } from '../shared/prescription.repository';
import { PharmacyChange } from './pharmacy-change';

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
 * again, with no dispenser, so another pharmacy can release it. Only the holder may return it, and only
 * while it is With Dispenser.
 */
@Injectable()
export class ReturnPrescriptionUseCase {
  constructor(
    private readonly change: PharmacyChange,
    private readonly prescriptions: PrescriptionRepository,
  ) {}

  execute(task: FhirResource, context: CallContext): Promise<FhirResource> {
    const { shortFormId, reason } = readReturnTask(task);
    return this.change.run(
      'prescription.return',
      task,
      shortFormId,
      context,
      async (transaction) => {
        await this.prescriptions.markReturned(transaction, shortFormId);
        return {
          kind: 'returned',
          to: PRESCRIPTION_STATUS.toBeDispensed,
          detail: `${reason} ${RETURN_REASONS[reason] ?? ''}`.trim(),
          subject: EPS_EVENTS.returned,
        };
      },
      {
        before: (prescription) => {
          if (prescription.status !== PRESCRIPTION_STATUS.withDispenser) {
            throw new PlatformError('INVALID_VALUE', undefined, {
              diagnostics: `Prescription ${shortFormId} is not with a dispenser (status ${prescription.status})`,
              expression: ['Task.groupIdentifier'],
            });
          }
        },
      },
    );
  }
}
