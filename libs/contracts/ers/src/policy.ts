import type { SubjectPolicies } from '@platform/shared-nats';
import { ERS_SUBJECTS } from './subjects';

/** Referrers: GP clinicians and practice administrators (business functions REFERRING_*). */
export const ERS_REFERRERS = ['clinician', 'practice-admin'] as const;
/** Providers: hospital clinicians (SERVICE_PROVIDER_CLINICIAN). */
export const ERS_PROVIDERS = ['provider-clinician'] as const;
/** Everyone who works with referrals on either side. */
export const ERS_USERS = [...ERS_REFERRERS, ...ERS_PROVIDERS] as const;
/** Who publishes a provider's directory entries: its clinicians (for their own organisation) and operations. */
export const ERS_PUBLISHERS = ['provider-clinician', 'ops'] as const;

/** Who may call each subject, checked by e-referrals itself against the verified caller (the business function is checked after). */
export const ERS_SUBJECT_POLICIES: SubjectPolicies = {
  [ERS_SUBJECTS.businessFunctionsGet]: { roles: ERS_USERS },
  [ERS_SUBJECTS.codeSystemGet]: { roles: ERS_USERS },
  [ERS_SUBJECTS.servicePublish]: { roles: ERS_PUBLISHERS },
  [ERS_SUBJECTS.slotsPublish]: { roles: ERS_PUBLISHERS },
  [ERS_SUBJECTS.serviceSearch]: { roles: ERS_REFERRERS },
  [ERS_SUBJECTS.serviceGet]: { roles: ERS_USERS },
  [ERS_SUBJECTS.serviceList]: { roles: ERS_USERS },
  [ERS_SUBJECTS.referralCreate]: { roles: ERS_REFERRERS },
  [ERS_SUBJECTS.referralCreateForTriage]: { roles: ERS_REFERRERS },
  [ERS_SUBJECTS.referralGet]: { roles: ERS_USERS },
  [ERS_SUBJECTS.referralActions]: { roles: ERS_USERS },
  [ERS_SUBJECTS.shortlistChange]: { roles: ERS_REFERRERS },
  [ERS_SUBJECTS.shortlistChangeForTriage]: { roles: ERS_REFERRERS },
  [ERS_SUBJECTS.referralCancel]: { roles: ERS_USERS },
  [ERS_SUBJECTS.referralAccept]: { roles: ERS_PROVIDERS },
  [ERS_SUBJECTS.referralReject]: { roles: ERS_PROVIDERS },
  [ERS_SUBJECTS.reviewOutcome]: { roles: ERS_PROVIDERS },
  [ERS_SUBJECTS.cancelAppointmentActionLater]: { roles: ERS_PROVIDERS },
  [ERS_SUBJECTS.practitionersOnBehalfOf]: { roles: ERS_PROVIDERS },
  [ERS_SUBJECTS.worklistGet]: { roles: ERS_PROVIDERS },
  [ERS_SUBJECTS.slotSearch]: { roles: ERS_REFERRERS },
  [ERS_SUBJECTS.appointmentCreate]: { roles: ERS_REFERRERS },
  [ERS_SUBJECTS.appointmentCancel]: { roles: ERS_USERS },
  [ERS_SUBJECTS.appointmentGet]: { roles: ERS_USERS },
  [ERS_SUBJECTS.serviceRequestSearch]: { roles: ERS_USERS },
  [ERS_SUBJECTS.healthCheck]: { public: true },
  // The patient page: only the gateway, signing as patient-web (role patient); the session decides the rest.
  [ERS_SUBJECTS.patientSignIn]: { roles: ['patient'] },
  [ERS_SUBJECTS.patientConfirm]: { roles: ['patient'] },
  [ERS_SUBJECTS.patientView]: { roles: ['patient'] },
  [ERS_SUBJECTS.patientSlots]: { roles: ['patient'] },
  [ERS_SUBJECTS.patientBook]: { roles: ['patient'] },
  [ERS_SUBJECTS.patientCancel]: { roles: ['patient'] },
  [ERS_SUBJECTS.patientSignOut]: { roles: ['patient'] },
  [ERS_SUBJECTS.patientLetter]: { roles: ERS_REFERRERS },
  [ERS_SUBJECTS.attachmentUpload]: { roles: ERS_USERS },
  [ERS_SUBJECTS.attachmentRead]: { roles: ERS_USERS },
  [ERS_SUBJECTS.referralLetterMaintain]: { roles: ERS_REFERRERS },
  [ERS_SUBJECTS.adviceCreate]: { roles: ERS_REFERRERS },
  [ERS_SUBJECTS.adviceWorklist]: { roles: ERS_PROVIDERS },
  [ERS_SUBJECTS.adviceGet]: { roles: ERS_USERS },
  [ERS_SUBJECTS.adviceConversation]: { roles: ERS_USERS },
  [ERS_SUBJECTS.adviceRespond]: { roles: ERS_PROVIDERS },
  [ERS_SUBJECTS.adviceConvert]: { roles: ERS_PROVIDERS },
};
