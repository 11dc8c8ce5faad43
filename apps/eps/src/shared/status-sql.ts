import type { PrescriptionStatus } from '@platform/contracts-eps';

/**
 * A prescription status from the contracts' `PRESCRIPTION_STATUS` as an SQL literal, for statements that
 * compare with fixed statuses. Written into the text rather than bound so that the planner still matches the
 * partial indexes on status (`WHERE status = '0001'`, `WHERE status IN ('0001', '0002')`) in every plan.
 */
export function statusLiteral(status: PrescriptionStatus): string {
  if (!/^000[1-8]$/.test(status)) throw new Error(`'${status}' is not a prescription status`);
  return `'${status}'`;
}
