/*
 * What PDS publishes on JetStream (subjects in PDS_EVENTS), always through the outbox, so never lost. Events
 * name the patient and what happened, not the demographics (names, dates, addresses, contacts): a consumer
 * that needs them reads the record, and that read is audited. The one exception is the ODS codes of the
 * practices in `registered`, which GP2GP needs to route a record transfer; they are organisation codes, and
 * are left out for a restricted patient, whose practice is locating information.
 */

/** `pds.patient.created.v1`: a new NHS number was allocated. */
export interface PatientCreatedEvent {
  nhsNumber: string;
  versionId: number;
  occurredAt: string;
}

/** `pds.patient.updated.v1`: any change to a patient. */
export interface PatientUpdatedEvent {
  nhsNumber: string;
  versionId: number;
  /** The top-level fields the change touched (`name`, `address`, `deceasedDateTime`...), never their values. */
  changed: string[];
  occurredAt: string;
}

/**
 * `pds.patient.deceased.v1`: the record now carries a date of death it did not have before (the death was
 * notified). Published with the `updated` event of the same change.
 */
export interface PatientDeceasedEvent {
  nhsNumber: string;
  versionId: number;
  occurredAt: string;
}

/**
 * `pds.patient.registered.v1`: the patient's registered GP practice changed (a new registration, a move
 * between practices, or a deduction when `practice` is null), or a new record was created with one.
 * For a restricted (S-flagged) patient both practices are left out: the practice is locating information.
 */
export interface PatientRegisteredEvent {
  nhsNumber: string;
  versionId: number;
  /** ODS code of the practice now registered, null when the patient has none. */
  practice?: string | null;
  /** ODS code of the practice before the change, null when there was none. */
  previousPractice?: string | null;
  restricted: boolean;
  occurredAt: string;
}
