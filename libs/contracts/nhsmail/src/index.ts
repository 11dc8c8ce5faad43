export { NhsmailRelayClient, type NhsmailRelayApi } from './client';
export { NHSMAIL_CODE_SYSTEM, NHSMAIL_ERRORS, NHSMAIL_OWN_ERRORS, type NhsmailRelayErrorCode } from './errors';
export type { MessageAcceptedEvent, MessageBouncedEvent, MessageDelayedEvent, MessageDeliveredEvent } from './events';
export { FakeNhsmailRelayClient } from './fake-client';
export {
  ListMessagesRequest,
  MailboxRef,
  MarkMessageRequest,
  MessageRef,
  ProvisionSharedMailboxesRequest,
  ProvisionPersonalMailboxRequest,
  SendAttachment,
  AttachmentPieceRequest,
  type AttachmentPiece,
  SendMessageRequest,
  type SentMessage,
  type MessageAttachment,
  type MessageContent,
  type MessagePage,
  type MessageSummary,
  type MyMailboxes,
  type ProvisionedMailboxes,
} from './mailbox-api';
export {
  CreateMailboxRequest,
  GetMailboxRequest,
  MAIL_ADDRESS,
  MAILBOX_KINDS,
  type Mailbox,
  type MailboxKind,
} from './mailboxes';
export { NHSMAIL_MAILBOX_ADMINS, NHSMAIL_MAILBOX_USERS, NHSMAIL_SUBJECT_POLICIES } from './policy';
export {
  NHSMAIL_SECURE_POLICIES,
  NHSMAIL_SECURE_SUBJECTS,
  NHSMAIL_SECURE_WEB_CALLER,
  SECURE_TOKEN,
  SecureAttachmentRequest,
  SecureCodeVerifyRequest,
  SecureLinkRequest,
  SecureMailClient,
  SecureReadRequest,
  type SecureAttachment,
  type SecureCodeRequested,
  type SecureCodeVerified,
  type SecureLinkProblem,
  type SecureLinkState,
  type SecureMessageView,
} from './secure';
export {
  DELIVERY_STATES,
  ListQueueRequest,
  NHSMAIL_QUEUE_OPERATORS,
  PurgeQueueRequest,
  RetryQueueRequest,
  type DeliveryState,
  type QueueActionResult,
  type QueuedDelivery,
  type QueuePage,
} from './queue-admin';
export { NHSMAIL_EVENT_STREAM, NHSMAIL_EVENTS, NHSMAIL_QUEUE, NHSMAIL_SUBJECTS } from './subjects';
