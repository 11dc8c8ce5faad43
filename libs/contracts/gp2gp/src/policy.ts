import type { SubjectPolicies } from '@platform/shared-nats';
import { GP2GP_SUBJECTS } from './subjects';

/** Who may create items; who may read them: set them to the service's real audience (BRIEF section 3, Roles). */
export const GP2GP_WRITERS = ['ops'] as const;
export const GP2GP_READERS = ['ops'] as const;

/** Who may call each subject, checked by gp2gp itself against the verified caller. */
export const GP2GP_SUBJECT_POLICIES: SubjectPolicies = {
  [GP2GP_SUBJECTS.itemCreate]: { roles: GP2GP_WRITERS },
  [GP2GP_SUBJECTS.itemGet]: { roles: GP2GP_READERS },
  [GP2GP_SUBJECTS.healthCheck]: { public: true },
};
