/** `nhsmail.message.accepted.v1`: a message was committed to the queue and answered 250. */
export interface MessageAcceptedEvent {
  messageId: string;
  receivedVia: 'submission' | 'relay' | 'api' | 'system';
  recipients: number;
  sizeBytes: number;
  occurredAt: string;
}

/** `nhsmail.message.delivered.v1`: one recipient's copy reached a mailbox or the smarthost accepted it. */
export interface MessageDeliveredEvent {
  messageId: string;
  deliveryId: string;
  local: boolean;
  attempts: number;
  occurredAt: string;
}

/** `nhsmail.message.bounced.v1`: one recipient failed for good (permanent refusal or the retry limit). */
export interface MessageBouncedEvent {
  messageId: string;
  deliveryId: string;
  attempts: number;
  /** The last SMTP reply or error, without the message's content. */
  reason: string;
  occurredAt: string;
}

/** `nhsmail.message.delayed.v1`: a recipient is still undelivered after the delay-notice time; the sender was told. */
export interface MessageDelayedEvent {
  messageId: string;
  deliveryId: string;
  attempts: number;
  occurredAt: string;
}
