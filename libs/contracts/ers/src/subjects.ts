/** NATS subjects e-referrals serves (request/reply). Breaking changes get a v2 beside v1. */
export const ERS_SUBJECTS = {
  itemCreate: 'ers.item.create.v1',
  itemGet: 'ers.item.get.v1',
  healthCheck: 'ers.health.check.v1',
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
