/** NATS subjects the PDS service serves (request/reply). Breaking changes get a v2 beside v1. */
export const PDS_SUBJECTS = {
  patientGet: 'pds.patient.get.v1',
  relatedPersonList: 'pds.related-person.list.v1',
  healthCheck: 'pds.health.check.v1',
} as const;

/** The queue group every PDS replica subscribes in. */
export const PDS_QUEUE = 'pds';
