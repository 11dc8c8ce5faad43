import { randomBytes } from 'node:crypto';
import type { Patient } from '@platform/contracts-pds';

/** Lists whose items carry an `id` that later updates must state. */
export const IDENTIFIED_LISTS = ['name', 'address', 'telecom', 'contact', 'generalPractitioner'] as const;

/** Gives every item of those lists that has no id one, as PDS assigns them. */
export function withItemIds(patient: Patient): Patient {
  for (const field of IDENTIFIED_LISTS) {
    const items = patient[field];
    if (!Array.isArray(items)) continue;
    for (const item of items as unknown[]) {
      if (typeof item === 'object' && item !== null && (item as { id?: unknown }).id === undefined) {
        (item as { id?: string }).id = randomBytes(4).toString('hex').toUpperCase();
      }
    }
  }
  return patient;
}
