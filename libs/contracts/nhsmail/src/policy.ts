import type { SubjectPolicies } from '@platform/shared-nats';
import { NHSMAIL_SUBJECTS } from './subjects';

/** Who may create items; who may read them: set them to the service's real audience (BRIEF section 3, Roles). */
export const NHSMAIL_WRITERS = ['ops'] as const;
export const NHSMAIL_READERS = ['ops'] as const;

/** Who may call each subject, checked by nhsmail-relay itself against the verified caller. */
export const NHSMAIL_SUBJECT_POLICIES: SubjectPolicies = {
  [NHSMAIL_SUBJECTS.itemCreate]: { roles: NHSMAIL_WRITERS },
  [NHSMAIL_SUBJECTS.itemGet]: { roles: NHSMAIL_READERS },
  [NHSMAIL_SUBJECTS.healthCheck]: { public: true },
};
