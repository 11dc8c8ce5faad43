import { Injectable } from '@nestjs/common';
import { EPS_EVENTS, type FhirResource } from '@platform/contracts-eps';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { checkedShortFormId, invalid } from '../shared/outcomes';
import { PrescriptionRepository } from '../shared/prescription.repository';
import { DispenseNotificationRepository } from './dispense-notification.repository';
import { PharmacyChange } from './pharmacy-change';

/** EPS-task-dispense-withdraw-reason. */
const WITHDRAW_REASONS = ['QU', 'MU', 'DA', 'PA', 'ONC', 'ALTP'];

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

/** Withdrawal of the latest dispense notification: the prescription goes back where that notification found it. */
@Injectable()
export class WithdrawDispenseUseCase {
  constructor(
    private readonly change: PharmacyChange,
    private readonly prescriptions: PrescriptionRepository,
    private readonly notifications: DispenseNotificationRepository,
  ) {}

  execute(task: FhirResource, context: CallContext): Promise<FhirResource> {
    const withdrawal = readWithdrawTask(task);
    return this.change.run(
      'prescription.withdraw',
      task,
      withdrawal.shortFormId,
      context,
      async (transaction, prescription) => {
        const latest = await this.notifications.latest(transaction, withdrawal.shortFormId, prescription.currentIssue);
        if (!latest || latest.id !== withdrawal.notificationId) {
          throw invalid('Only the latest dispense notification of a prescription can be withdrawn', 'Task.focus');
        }
        await this.notifications.withdraw(transaction, latest.id);
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
}
