import { NHSMAIL_SECURE_SUBJECTS } from './secure';

/** NATS subjects nhsmail-relay serves (request/reply). Breaking changes get a v2 beside v1. */
export const NHSMAIL_SUBJECTS = {
  mailboxCreate: 'nhsmail.mailbox.create.v1',
  mailboxGet: 'nhsmail.mailbox.get.v1',
  mailboxMine: 'nhsmail.mailbox.mine.v1',
  mailboxProvisionShared: 'nhsmail.mailbox.provision-shared.v1',
  mailboxProvisionPersonal: 'nhsmail.mailbox.provision-personal.v1',
  mailboxProvisionPharmacies: 'nhsmail.mailbox.provision-pharmacies.v1',
  mailboxProvisionDirectory: 'nhsmail.mailbox.provision-directory.v1',
  messageList: 'nhsmail.mailbox-message.list.v1',
  messageRead: 'nhsmail.mailbox-message.read.v1',
  messageMark: 'nhsmail.mailbox-message.mark.v1',
  messageDelete: 'nhsmail.mailbox-message.delete.v1',
  messageSend: 'nhsmail.mailbox-message.send.v1',
  messageAttachment: 'nhsmail.mailbox-message.attachment.v1',
  queueList: 'nhsmail.queue.list.v1',
  queueRetry: 'nhsmail.queue.retry.v1',
  queuePurge: 'nhsmail.queue.purge.v1',
  healthCheck: 'nhsmail.health.check.v1',
  ...NHSMAIL_SECURE_SUBJECTS,
} as const;

/**
 * Events nhsmail-relay publishes on JetStream (past tense). The stream lists these subjects one by one: a
 * wildcard such as `nhsmail.message.>` could capture request subjects and answer them with acks.
 */
export const NHSMAIL_EVENTS = {
  messageAccepted: 'nhsmail.message.accepted.v1',
  messageDelivered: 'nhsmail.message.delivered.v1',
  messageBounced: 'nhsmail.message.bounced.v1',
  messageDelayed: 'nhsmail.message.delayed.v1',
} as const;

/** The JetStream stream that keeps nhsmail-relay's events. */
export const NHSMAIL_EVENT_STREAM = 'NHSMAIL_EVENTS';

/** The queue group every nhsmail-relay replica subscribes in. */
export const NHSMAIL_QUEUE = 'nhsmail-relay';
