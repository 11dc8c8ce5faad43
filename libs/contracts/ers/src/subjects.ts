/** NATS subjects e-referrals serves (request/reply), named after the NHS operations (A0xx). v2 beside v1 when breaking. */
export const ERS_SUBJECTS = {
  /** A030: the caller's business functions per organisation (R4 PractitionerRole Bundle). */
  businessFunctionsGet: 'ers.business-functions.get.v1',
  /** A004: a reference data code system (STU3 CodeSystem). */
  codeSystemGet: 'ers.code-system.get.v1',
  /** Directory: a provider publishes a healthcare service (R4 HealthcareService). */
  servicePublish: 'ers.service.publish.v1',
  /** Directory: a provider publishes a schedule and its slots in bulk (R4 Bundle of Schedule and Slot). */
  slotsPublish: 'ers.slots.publish.v1',
  /** A010: services for a patient. */
  serviceSearch: 'ers.service.search.v1',
  /** A033 / A037: one service (current or a version). */
  serviceGet: 'ers.service.get.v1',
  /** A035: services by id (up to 20). */
  serviceList: 'ers.service.list.v1',
  /** A011 (and A021 with sendForTriage): create a referral with a shortlist. */
  referralCreate: 'ers.referral.create.v1',
  /** A021: create a referral and send it for triage to its one triage service. */
  referralCreateForTriage: 'ers.referral.create-for-triage.v1',
  /** A005: a referral, current or a version. */
  referralGet: 'ers.referral.get.v1',
  /** A029: the actions the caller may take on a referral now. */
  referralActions: 'ers.referral.actions.v1',
  /** A031: change the shortlist. */
  shortlistChange: 'ers.referral.shortlist-change.v1',
  /** A032: change the shortlist to one triage service and send the referral for triage. */
  shortlistChangeForTriage: 'ers.referral.shortlist-change-for-triage.v1',
  /** A036: cancel a referral. */
  referralCancel: 'ers.referral.cancel.v1',
  /** A013: the provider accepts a referral. */
  referralAccept: 'ers.referral.accept.v1',
  /** A014: the provider rejects a referral. */
  referralReject: 'ers.referral.reject.v1',
  /** A028: the provider records a triage outcome. */
  reviewOutcome: 'ers.referral.review-outcome.v1',
  /** A022: the provider cancels the booked appointment and tasks its admin team to rebook or redirect. */
  cancelAppointmentActionLater: 'ers.referral.cancel-appointment-action-later.v1',
  /** A040: the provider clinicians a SERVICE_PROVIDER_CLINICIAN_ADMIN may act on behalf of (R4 Practitioner Bundle). */
  practitionersOnBehalfOf: 'ers.practitioner.on-behalf-of.v1',
  /** A008: a provider worklist. */
  worklistGet: 'ers.worklist.get.v1',
  /** A015: free slots of a shortlisted service. */
  slotSearch: 'ers.slot.search.v1',
  /** A016: book, defer to provider, or send for triage. */
  appointmentCreate: 'ers.appointment.create.v1',
  /** A034: cancel an appointment (PUT Appointment with status cancelled). */
  appointmentCancel: 'ers.appointment.cancel.v1',
  /** A038: an appointment, current or a version. */
  appointmentGet: 'ers.appointment.get.v1',
  /** A041: service requests by UBRN (R4). */
  serviceRequestSearch: 'ers.service-request.search.v1',
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
  /** A019: the patient letter (PDF). */
  patientLetter: 'ers.referral.patient-letter.v1',
  /** A020: store a file uploaded to the document store (the gateway put it in ERS_UPLOAD_BUCKET). */
  attachmentUpload: 'ers.attachment.upload.v1',
  /** A006: read an attachment, a part at a time. */
  attachmentRead: 'ers.attachment.read.v1',
  /** A012: replace the referral letter attachments of a referral. */
  referralLetterMaintain: 'ers.referral.letter-maintain.v1',
  // ---- Advice and Guidance ----
  /** A044: create an A&G request to exactly one service. */
  adviceCreate: 'ers.advice.create.v1',
  /** A023: the provider's A&G worklist. */
  adviceWorklist: 'ers.advice.worklist.v1',
  /** A024: an A&G request (CommunicationRequest). */
  adviceGet: 'ers.advice.get.v1',
  /** A025: the conversation (Communication Bundle). */
  adviceConversation: 'ers.advice.conversation.v1',
  /** A026: the provider's response. */
  adviceRespond: 'ers.advice.respond.v1',
  /** A027: the provider converts the request to a referral (when the referrer authorised it). */
  adviceConvert: 'ers.advice.convert.v1',
} as const;

/**
 * Events e-referrals publishes on JetStream (past tense), one per referral state change. The stream lists
 * these subjects one by one: a wildcard such as `ers.referral.>` would also capture the request subjects.
 */
export const ERS_EVENTS = {
  referralCreated: 'ers.referral.created.v1',
  referralBooked: 'ers.referral.booked.v1',
  referralDeferred: 'ers.referral.deferred.v1',
  referralSentForTriage: 'ers.referral.sent-for-triage.v1',
  referralShortlistChanged: 'ers.referral.shortlist-changed.v1',
  appointmentCancelled: 'ers.referral.appointment-cancelled.v1',
  referralCancelled: 'ers.referral.cancelled.v1',
  referralAccepted: 'ers.referral.accepted.v1',
  referralRejected: 'ers.referral.rejected.v1',
  reviewOutcomeRecorded: 'ers.referral.review-outcome-recorded.v1',
  // ---- Letters and attachments ----
  attachmentUploaded: 'ers.attachment.uploaded.v1',
  referralLettersChanged: 'ers.referral.letters-changed.v1',
  // ---- Advice and Guidance ----
  adviceCreated: 'ers.advice.created.v1',
  adviceResponded: 'ers.advice.responded.v1',
  adviceConverted: 'ers.advice.converted.v1',
} as const;

/** The JetStream stream that keeps e-referrals's events. */
export const ERS_EVENT_STREAM = 'ERS_EVENTS';

/** The queue group every e-referrals replica subscribes in. */
export const ERS_QUEUE = 'e-referrals';
