/** NATS subjects the PDS service serves (request/reply). Breaking changes get a v2 beside v1. */
export const PDS_SUBJECTS = {
  patientGet: 'pds.patient.get.v1',
  patientSearch: 'pds.patient.search.v1',
  patientUpdate: 'pds.patient.update.v1',
  patientCreate: 'pds.patient.create.v1',
  relatedPersonList: 'pds.related-person.list.v1',
  coverageGet: 'pds.coverage.get.v1',
  coverageUpdate: 'pds.coverage.update.v1',
  healthCheck: 'pds.health.check.v1',
} as const;

/**
 * Events PDS publishes on JetStream (past tense). The stream lists these subjects one by one: a wildcard
 * such as `pds.patient.>` would also capture the request subjects above and answer them with acks.
 */
export const PDS_EVENTS = {
  patientUpdated: 'pds.patient.updated.v1',
  patientCreated: 'pds.patient.created.v1',
  patientDeceased: 'pds.patient.deceased.v1',
  patientRegistered: 'pds.patient.registered.v1',
} as const;

/** The JetStream stream that keeps PDS's events. */
export const PDS_EVENT_STREAM = 'PDS_EVENTS';

/** The queue group every PDS replica subscribes in. */
export const PDS_QUEUE = 'pds';
