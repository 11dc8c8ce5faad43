import type { SubjectPolicies } from '@platform/shared-nats';
import { PDS_SUBJECTS } from './subjects';

/** Who may read patients: the people whose work needs a patient's demographics. */
export const PDS_READERS = ['clinician', 'practice-admin', 'pharmacist', 'provider-clinician'] as const;
/** Who may register and change patients: the GP practice. */
export const PDS_WRITERS = ['clinician', 'practice-admin'] as const;

/**
 * Who may call each PDS subject, checked by PDS itself against the verified caller (whoever sent the
 * message): a route opened by mistake at the gateway still cannot reach a patient.
 */
export const PDS_SUBJECT_POLICIES: SubjectPolicies = {
  // A patient reads their own record (patient access; pds checks the caller's NHS number), never a search.
  [PDS_SUBJECTS.patientGet]: { roles: [...PDS_READERS, 'patient'] },
  [PDS_SUBJECTS.patientSearch]: { roles: PDS_READERS },
  [PDS_SUBJECTS.relatedPersonList]: { roles: [...PDS_READERS, 'patient'] },
  // A patient updates a few fields of their own record (patient access; pds checks whose and which fields).
  [PDS_SUBJECTS.patientUpdate]: { roles: [...PDS_WRITERS, 'patient'] },
  [PDS_SUBJECTS.patientCreate]: { roles: PDS_WRITERS },
  // EHIC details: patient access only ("You can only use this endpoint if you are using patient access
  // mode"), a patient's own card; pds checks the mode and whose.
  [PDS_SUBJECTS.coverageGet]: { roles: ['patient'] },
  [PDS_SUBJECTS.coverageUpdate]: { roles: ['patient'] },
  [PDS_SUBJECTS.healthCheck]: { public: true },
};
