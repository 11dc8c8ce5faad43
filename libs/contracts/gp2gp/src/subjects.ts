/** NATS subjects gp2gp serves (request/reply). Breaking changes get a v2 beside v1. */
export const GP2GP_SUBJECTS = {
  /** Starts a transfer for an NHS number, or polls it (the requesting practice). */
  transferStart: 'gp2gp.transfer.start.v1',
  /** The requesting practice's final acknowledgement: ACCEPTED or FAILED_TO_INTEGRATE with a reason. */
  transferAck: 'gp2gp.transfer.ack.v1',
  /** One transfer's state, attachments and history (operators). */
  transferStatus: 'gp2gp.transfer.status.v1',
  /** Transfers, filtered and paged (operators). */
  transferList: 'gp2gp.transfer.list.v1',
  /** Sends a failed or timed-out transfer again from the start (operators). */
  transferResend: 'gp2gp.transfer.resend.v1',
  /** A piece of an attachment, through a signed link (the requesting practice, via the gateway). */
  attachmentRead: 'gp2gp.attachment.read.v1',
  healthCheck: 'gp2gp.health.check.v1',
} as const;

/**
 * Events gp2gp publishes on JetStream (past tense). The stream lists these subjects one by one: a
 * wildcard such as `gp2gp.transfer.>` would also capture the request subjects above and answer them with acks.
 */
export const GP2GP_EVENTS = {
  /** The requesting practice accepted the record: the transfer is over. */
  transferCompleted: 'gp2gp.transfer.completed.v1',
  /** The transfer failed (a negative acknowledgement with its reason code). */
  transferFailed: 'gp2gp.transfer.failed.v1',
  /** No final acknowledgement within 8 days (error 99): the sending practice must print the record. */
  transferTimedOut: 'gp2gp.transfer.timed-out.v1',
} as const;

/** The JetStream stream that keeps gp2gp's events. */
export const GP2GP_EVENT_STREAM = 'GP2GP_EVENTS';

/** The JetStream object store attachments' fragments travel through (owned by gp2gp). */
export const GP2GP_FRAGMENT_BUCKET = 'gp2gp-fragments';

/** The queue group every gp2gp replica subscribes in. */
export const GP2GP_QUEUE = 'gp2gp';
