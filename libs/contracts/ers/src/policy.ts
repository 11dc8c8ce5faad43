import type { SubjectPolicies } from '@platform/shared-nats';
import { ERS_SUBJECTS } from './subjects';

/** Who may create items; who may read them: set them to the service's real audience (BRIEF section 3, Roles). */
export const ERS_WRITERS = ['ops'] as const;
export const ERS_READERS = ['ops'] as const;

/** Who may call each subject, checked by e-referrals itself against the verified caller. */
export const ERS_SUBJECT_POLICIES: SubjectPolicies = {
  [ERS_SUBJECTS.itemCreate]: { roles: ERS_WRITERS },
  [ERS_SUBJECTS.itemGet]: { roles: ERS_READERS },
  [ERS_SUBJECTS.healthCheck]: { public: true },
  // The patient page: only the gateway, signing as patient-web (role patient); the session decides the rest.
  [ERS_SUBJECTS.patientSignIn]: { roles: ['patient'] },
  [ERS_SUBJECTS.patientConfirm]: { roles: ['patient'] },
  [ERS_SUBJECTS.patientView]: { roles: ['patient'] },
  [ERS_SUBJECTS.patientSlots]: { roles: ['patient'] },
  [ERS_SUBJECTS.patientBook]: { roles: ['patient'] },
  [ERS_SUBJECTS.patientCancel]: { roles: ['patient'] },
  [ERS_SUBJECTS.patientSignOut]: { roles: ['patient'] },
};
