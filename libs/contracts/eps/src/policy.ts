import type { SubjectPolicies } from '@platform/shared-nats';
import { EPS_SUBJECTS } from './subjects';

/** Who prescribes (and cancels). */
export const EPS_PRESCRIBERS = ['clinician'] as const;
/** Who releases, returns, dispenses and claims. */
export const EPS_DISPENSERS = ['pharmacist'] as const;
/** Who registers or rotates a prescriber's signing key: operations, never a prescriber for themself. */
export const EPS_KEY_ADMINISTRATORS = ['ops'] as const;

/** Who may call each EPS subject, checked by EPS itself against the verified caller. */
export const EPS_SUBJECT_POLICIES: SubjectPolicies = {
  [EPS_SUBJECTS.prepare]: { roles: EPS_PRESCRIBERS },
  [EPS_SUBJECTS.create]: { roles: EPS_PRESCRIBERS },
  [EPS_SUBJECTS.cancel]: { roles: EPS_PRESCRIBERS },
  [EPS_SUBJECTS.release]: { roles: EPS_DISPENSERS },
  [EPS_SUBJECTS.return]: { roles: EPS_DISPENSERS },
  [EPS_SUBJECTS.dispense]: { roles: EPS_DISPENSERS },
  [EPS_SUBJECTS.withdraw]: { roles: EPS_DISPENSERS },
  [EPS_SUBJECTS.claim]: { roles: EPS_DISPENSERS },
  [EPS_SUBJECTS.get]: { roles: [...EPS_PRESCRIBERS, ...EPS_DISPENSERS, 'patient'] },
  [EPS_SUBJECTS.registerKey]: { roles: EPS_KEY_ADMINISTRATORS },
  [EPS_SUBJECTS.healthCheck]: { public: true },
};
