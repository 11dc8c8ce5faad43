import type { SubjectPolicies } from '@platform/shared-nats';
import { GP2GP_LEGACY_SUBJECT_POLICIES } from './legacy';
import { GP2GP_SUBJECTS } from './subjects';

/**
 * The requesting practice's staff (and its clinical system, with an application token carrying one of these
 * roles): they start, poll and acknowledge transfers, and read attachments, for their own organisation only
 * (gp2gp checks the caller's organisation against each transfer).
 */
export const GP2GP_PRACTICE_ROLES = ['practice-admin', 'clinician'] as const;
/** Operations staff: status, the list and resend (the sending adaptor's operator API). */
export const GP2GP_OPERATORS = ['ops'] as const;

/** Who may call each subject, checked by gp2gp itself against the verified caller. */
export const GP2GP_SUBJECT_POLICIES: SubjectPolicies = {
  [GP2GP_SUBJECTS.transferStart]: { roles: GP2GP_PRACTICE_ROLES },
  [GP2GP_SUBJECTS.transferAck]: { roles: GP2GP_PRACTICE_ROLES },
  [GP2GP_SUBJECTS.attachmentRead]: { roles: GP2GP_PRACTICE_ROLES },
  [GP2GP_SUBJECTS.transferStatus]: { roles: GP2GP_OPERATORS },
  [GP2GP_SUBJECTS.transferList]: { roles: GP2GP_OPERATORS },
  [GP2GP_SUBJECTS.transferResend]: { roles: GP2GP_OPERATORS },
  [GP2GP_SUBJECTS.healthCheck]: { public: true },
  // Legacy (HL7 V3 / MHS) practices.
  ...GP2GP_LEGACY_SUBJECT_POLICIES,
};
