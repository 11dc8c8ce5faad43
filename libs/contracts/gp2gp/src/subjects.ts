/** NATS subjects gp2gp serves (request/reply). Breaking changes get a v2 beside v1. */
export const GP2GP_SUBJECTS = {
  itemCreate: 'gp2gp.item.create.v1',
  itemGet: 'gp2gp.item.get.v1',
  healthCheck: 'gp2gp.health.check.v1',
} as const;

/**
 * Events gp2gp publishes on JetStream (past tense). The stream lists these subjects one by one: a
 * wildcard such as `gp2gp.item.>` would also capture the request subjects above and answer them with acks.
 */
export const GP2GP_EVENTS = {
  itemCreated: 'gp2gp.item.created.v1',
} as const;

/** The JetStream stream that keeps gp2gp's events. */
export const GP2GP_EVENT_STREAM = 'GP2GP_EVENTS';

/** The queue group every gp2gp replica subscribes in. */
export const GP2GP_QUEUE = 'gp2gp';
