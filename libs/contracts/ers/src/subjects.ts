/** NATS subjects e-referrals serves (request/reply). Breaking changes get a v2 beside v1. */
export const ERS_SUBJECTS = {
  itemCreate: 'ers.item.create.v1',
  itemGet: 'ers.item.get.v1',
  healthCheck: 'ers.health.check.v1',
  // ---- Patients booking themselves (the patient page; called only by the gateway as patient-web) ----
  /** The UBRN and access code from the letter (counted against the UBRN's attempts). */
  patientSignIn: 'ers.patient.sign-in.v1',
  /** The year of birth against PDS: a session. */
  patientConfirm: 'ers.patient.confirm.v1',
  /** The patient's referral: shortlist with distance and wait, current appointment. */
  patientView: 'ers.patient.view.v1',
  /** Free slots of a shortlisted service. */
  patientSlots: 'ers.patient.slots.v1',
  /** Book a slot (A016 for the patient). */
  patientBook: 'ers.patient.book.v1',
  /** Cancel the appointment (A034 for the patient). */
  patientCancel: 'ers.patient.cancel.v1',
  /** End the session. */
  patientSignOut: 'ers.patient.sign-out.v1',
} as const;

/**
 * Events e-referrals publishes on JetStream (past tense). The stream lists these subjects one by one: a
 * wildcard such as `ers.item.>` would also capture the request subjects above and answer them with acks.
 */
export const ERS_EVENTS = {
  itemCreated: 'ers.item.created.v1',
} as const;

/** The JetStream stream that keeps e-referrals's events. */
export const ERS_EVENT_STREAM = 'ERS_EVENTS';

/** The queue group every e-referrals replica subscribes in. */
export const ERS_QUEUE = 'e-referrals';
