import { PLATFORM_ROLES } from '@platform/shared-auth';
import type { SubjectPolicies } from '@platform/shared-nats';
import { N3_SUBJECTS } from './subjects';

/** Who may change the registry: registry administrators. */
export const N3_WRITERS = ['registry-admin'] as const;
/** Who may read connections, sites and IP owners: administrators and operations. */
export const N3_READERS = ['registry-admin', 'ops'] as const;

/**
 * Who may call each registry subject, checked by the registry itself against the verified caller. The
 * directory of organisations is open to every platform role (and to services acting for them).
 */
export const N3_SUBJECT_POLICIES: SubjectPolicies = {
  [N3_SUBJECTS.organisationGet]: { roles: PLATFORM_ROLES },
  // The NHSmail relay reads the directory for itself to make practices' and pharmacies' mailboxes at start.
  [N3_SUBJECTS.organisationSearch]: { roles: [...PLATFORM_ROLES, 'service:nhsmail-relay'] },
  [N3_SUBJECTS.organisationUpsert]: { roles: N3_WRITERS },
  [N3_SUBJECTS.organisationImport]: { roles: N3_WRITERS },
  [N3_SUBJECTS.siteCreate]: { roles: N3_WRITERS },
  [N3_SUBJECTS.siteList]: { roles: N3_READERS },
  [N3_SUBJECTS.connectionCreate]: { roles: N3_WRITERS },
  [N3_SUBJECTS.connectionGet]: { roles: N3_READERS },
  [N3_SUBJECTS.connectionList]: { roles: N3_READERS },
  [N3_SUBJECTS.connectionTransition]: { roles: N3_WRITERS },
  [N3_SUBJECTS.connectionHistory]: { roles: N3_READERS },
  [N3_SUBJECTS.allocationCreate]: { roles: N3_WRITERS },
  [N3_SUBJECTS.allocationRelease]: { roles: N3_WRITERS },
  // The NHSmail relay asks, for itself, whether a client's address belongs to a live connection.
  [N3_SUBJECTS.ipOwner]: { roles: [...N3_READERS, 'service:nhsmail-relay'] },
  [N3_SUBJECTS.healthCheck]: { public: true },
};
