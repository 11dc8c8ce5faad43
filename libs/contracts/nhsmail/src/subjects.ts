/** NATS subjects nhsmail-relay serves (request/reply). Breaking changes get a v2 beside v1. */
export const NHSMAIL_SUBJECTS = {
  itemCreate: 'nhsmail.item.create.v1',
  itemGet: 'nhsmail.item.get.v1',
  healthCheck: 'nhsmail.health.check.v1',
} as const;

/**
 * Events nhsmail-relay publishes on JetStream (past tense). The stream lists these subjects one by one: a
 * wildcard such as `nhsmail.item.>` would also capture the request subjects above and answer them with acks.
 */
export const NHSMAIL_EVENTS = {
  itemCreated: 'nhsmail.item.created.v1',
} as const;

/** The JetStream stream that keeps nhsmail-relay's events. */
export const NHSMAIL_EVENT_STREAM = 'NHSMAIL_EVENTS';

/** The queue group every nhsmail-relay replica subscribes in. */
export const NHSMAIL_QUEUE = 'nhsmail-relay';
