import { PLATFORM_ROLES } from '@platform/shared-auth';
import type { SubjectPolicies } from '@platform/shared-nats';
import { NHSMAIL_SECURE_POLICIES } from './secure';
import { NHSMAIL_QUEUE_OPERATORS } from './queue-admin';
import { NHSMAIL_SUBJECTS } from './subjects';

/** Who manages mailboxes (personal, shared, application accounts): registry administrators. */
export const NHSMAIL_MAILBOX_ADMINS = ['registry-admin'] as const;

/** Who has a mailbox: every platform user but patients (their access is checked per mailbox by the relay). */
export const NHSMAIL_MAILBOX_USERS = PLATFORM_ROLES.filter((role) => role !== 'patient');

/** Who may call each subject, checked by nhsmail-relay itself against the verified caller. */
export const NHSMAIL_SUBJECT_POLICIES: SubjectPolicies = {
  [NHSMAIL_SUBJECTS.mailboxCreate]: { roles: NHSMAIL_MAILBOX_ADMINS },
  [NHSMAIL_SUBJECTS.mailboxGet]: { roles: NHSMAIL_MAILBOX_ADMINS },
  [NHSMAIL_SUBJECTS.mailboxMine]: { roles: NHSMAIL_MAILBOX_USERS },
  [NHSMAIL_SUBJECTS.mailboxProvisionShared]: { roles: NHSMAIL_MAILBOX_ADMINS },
  [NHSMAIL_SUBJECTS.mailboxProvisionPersonal]: { roles: NHSMAIL_MAILBOX_ADMINS },
  [NHSMAIL_SUBJECTS.mailboxProvisionPharmacies]: { roles: NHSMAIL_MAILBOX_ADMINS },
  [NHSMAIL_SUBJECTS.mailboxProvisionDirectory]: { roles: NHSMAIL_MAILBOX_ADMINS },
  [NHSMAIL_SUBJECTS.messageList]: { roles: NHSMAIL_MAILBOX_USERS },
  [NHSMAIL_SUBJECTS.messageRead]: { roles: NHSMAIL_MAILBOX_USERS },
  [NHSMAIL_SUBJECTS.messageMark]: { roles: NHSMAIL_MAILBOX_USERS },
  [NHSMAIL_SUBJECTS.messageDelete]: { roles: NHSMAIL_MAILBOX_USERS },
  [NHSMAIL_SUBJECTS.messageSend]: { roles: NHSMAIL_MAILBOX_USERS },
  [NHSMAIL_SUBJECTS.messageAttachment]: { roles: NHSMAIL_MAILBOX_USERS },
  [NHSMAIL_SUBJECTS.queueList]: { roles: NHSMAIL_QUEUE_OPERATORS },
  [NHSMAIL_SUBJECTS.queueRetry]: { roles: NHSMAIL_QUEUE_OPERATORS },
  [NHSMAIL_SUBJECTS.queuePurge]: { roles: NHSMAIL_QUEUE_OPERATORS },
  [NHSMAIL_SUBJECTS.healthCheck]: { public: true },
  ...NHSMAIL_SECURE_POLICIES,
};
