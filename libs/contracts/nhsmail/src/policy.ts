import type { SubjectPolicies } from '@platform/shared-nats';
import { NHSMAIL_SUBJECTS } from './subjects';

/** Who manages mailboxes (personal, shared, application accounts): registry administrators. */
export const NHSMAIL_MAILBOX_ADMINS = ['registry-admin'] as const;

/** Who may call each subject, checked by nhsmail-relay itself against the verified caller. */
export const NHSMAIL_SUBJECT_POLICIES: SubjectPolicies = {
  [NHSMAIL_SUBJECTS.mailboxCreate]: { roles: NHSMAIL_MAILBOX_ADMINS },
  [NHSMAIL_SUBJECTS.mailboxGet]: { roles: NHSMAIL_MAILBOX_ADMINS },
  [NHSMAIL_SUBJECTS.healthCheck]: { public: true },
};
