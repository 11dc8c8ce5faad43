import { PlatformError } from '@platform/shared-errors';
import type { CallContext, NatsRpcClient } from '@platform/shared-nats';
import './errors';
import {
  ListMessagesRequest,
  MarkMessageRequest,
  MessageRef,
  ProvisionSharedMailboxesRequest,
  ProvisionPersonalMailboxRequest,
  SendMessageRequest,
  AttachmentPieceRequest,
  type AttachmentPiece,
  type SentMessage,
  type MessageContent,
  type MessagePage,
  type MessageSummary,
  type MyMailboxes,
  type ProvisionedMailboxes,
} from './mailbox-api';
import {
  ListQueueRequest,
  PurgeQueueRequest,
  RetryQueueRequest,
  type QueueActionResult,
  type QueuePage,
} from './queue-admin';
import { CreateMailboxRequest, GetMailboxRequest, MAILBOX_KINDS, type Mailbox } from './mailboxes';
import { NHSMAIL_SUBJECTS } from './subjects';

/** What other projects may ask of nhsmail-relay. */
export interface NhsmailRelayApi {
  /** Creates a mailbox; exactly once per (caller, X-Request-ID). */
  createMailbox(request: CreateMailboxRequest, context: CallContext): Promise<Mailbox>;
  /** One mailbox (NHSMAIL_MAILBOX_NOT_FOUND otherwise). */
  getMailbox(request: GetMailboxRequest, context: CallContext): Promise<Mailbox>;
  /** The caller's personal mailbox (made on first use from their signed identity) and their shared ones. */
  myMailboxes(context: CallContext): Promise<MyMailboxes>;
  /** pharmacy.<ODS>@ shared mailboxes for the given organisations (registry-admin); existing ones are kept. */
  provisionSharedMailboxes(
    request: ProvisionSharedMailboxesRequest,
    context: CallContext,
  ): Promise<ProvisionedMailboxes>;
  /** firstname.lastname@ for a platform user (registry-admin); their existing personal mailbox if they have one. */
  provisionPersonalMailbox(request: ProvisionPersonalMailboxRequest, context: CallContext): Promise<Mailbox>;
  /** pharmacy.<ODS>@ for every active pharmacy in the N3 registry's organisation directory (registry-admin). */
  provisionPharmacyMailboxes(context: CallContext): Promise<ProvisionedMailboxes>;
  /**
   * gp.<ODS>@ for every active GP practice and pharmacy.<ODS>@ for every active pharmacy in the N3 registry's
   * organisation directory (registry-admin); existing ones are kept.
   */
  provisionDirectoryMailboxes(context: CallContext): Promise<ProvisionedMailboxes>;
  listMessages(request: ListMessagesRequest, context: CallContext): Promise<MessagePage>;
  /** A message parsed from its stored bytes; the read is audited and the message marked seen. */
  readMessage(request: MessageRef, context: CallContext): Promise<MessageContent>;
  markMessage(request: MarkMessageRequest, context: CallContext): Promise<MessageSummary>;
  deleteMessage(request: MessageRef, context: CallContext): Promise<{ deleted: true }>;
  /** Composes the message into MIME and queues it as SMTP intake does; once per X-Request-ID. */
  sendMessage(request: SendMessageRequest, context: CallContext): Promise<SentMessage>;
  /** The queue for operators: deliveries by state, domain and age. */
  listQueue(request: ListQueueRequest, context: CallContext): Promise<QueuePage>;
  /** Retry now; deliveries a worker holds are left alone. */
  retryQueue(request: RetryQueueRequest, context: CallContext): Promise<QueueActionResult>;
  /** Bounce pending deliveries without a notice (once per X-Request-ID). */
  purgeQueue(request: PurgeQueueRequest, context: CallContext): Promise<QueueActionResult>;
  /** One piece of an attachment; the first piece's read is audited. */
  readAttachment(request: AttachmentPieceRequest, context: CallContext): Promise<AttachmentPiece>;
  health(context: CallContext, timeoutMs?: number): Promise<{ status: 'ok'; service: string }>;
}

function expectObject<T>(reply: unknown, keys: string[], what: string): T {
  const valid =
    typeof reply === 'object' && reply !== null && keys.every((key) => key in (reply as Record<string, unknown>));
  if (!valid) throw new PlatformError('REC_SERVER_ERROR', `nhsmail-relay answered with something that is not ${what}`);
  return reply as T;
}

function expectMailbox(reply: unknown): Mailbox {
  const mailbox = reply as Partial<Mailbox> | null;
  const valid =
    typeof mailbox === 'object' &&
    mailbox !== null &&
    typeof mailbox.address === 'string' &&
    (MAILBOX_KINDS as readonly unknown[]).includes(mailbox.kind) &&
    typeof mailbox.displayName === 'string' &&
    (mailbox.ownerUsername === null || typeof mailbox.ownerUsername === 'string') &&
    (mailbox.odsCode === null || typeof mailbox.odsCode === 'string') &&
    Array.isArray(mailbox.members) &&
    mailbox.members.every((member) => typeof member === 'string') &&
    typeof mailbox.hasPassword === 'boolean' &&
    typeof mailbox.createdAt === 'string';
  if (!valid) {
    throw new PlatformError('REC_SERVER_ERROR', 'nhsmail-relay answered with something that is not a mailbox');
  }
  return mailbox as Mailbox;
}

/** The typed nhsmail-relay client: validates what it sends and the shape of what it receives, over NATS. */
export class NhsmailRelayClient implements NhsmailRelayApi {
  constructor(private readonly rpc: NatsRpcClient) {}

  async createMailbox(request: CreateMailboxRequest, context: CallContext): Promise<Mailbox> {
    return expectMailbox(
      await this.rpc.requestValidated(NHSMAIL_SUBJECTS.mailboxCreate, CreateMailboxRequest, request, context),
    );
  }

  async getMailbox(request: GetMailboxRequest, context: CallContext): Promise<Mailbox> {
    return expectMailbox(
      await this.rpc.requestValidated(NHSMAIL_SUBJECTS.mailboxGet, GetMailboxRequest, request, context),
    );
  }

  async myMailboxes(context: CallContext): Promise<MyMailboxes> {
    const reply = expectObject<MyMailboxes>(
      await this.rpc.request(NHSMAIL_SUBJECTS.mailboxMine, {}, context),
      ['personal', 'shared'],
      'a mailbox list',
    );
    expectMailbox(reply.personal);
    reply.shared.forEach(expectMailbox);
    return reply;
  }

  async provisionSharedMailboxes(
    request: ProvisionSharedMailboxesRequest,
    context: CallContext,
  ): Promise<ProvisionedMailboxes> {
    return expectObject(
      await this.rpc.requestValidated(
        NHSMAIL_SUBJECTS.mailboxProvisionShared,
        ProvisionSharedMailboxesRequest,
        request,
        context,
        { timeoutMs: 30_000 },
      ),
      ['created', 'existing'],
      'a provisioning result',
    );
  }

  async provisionPersonalMailbox(request: ProvisionPersonalMailboxRequest, context: CallContext): Promise<Mailbox> {
    return expectMailbox(
      await this.rpc.requestValidated(
        NHSMAIL_SUBJECTS.mailboxProvisionPersonal,
        ProvisionPersonalMailboxRequest,
        request,
        context,
      ),
    );
  }

  async provisionPharmacyMailboxes(context: CallContext): Promise<ProvisionedMailboxes> {
    return expectObject(
      await this.rpc.request(NHSMAIL_SUBJECTS.mailboxProvisionPharmacies, {}, context, 60_000),
      ['created', 'existing'],
      'a provisioning result',
    );
  }

  async provisionDirectoryMailboxes(context: CallContext): Promise<ProvisionedMailboxes> {
    return expectObject(
      await this.rpc.request(NHSMAIL_SUBJECTS.mailboxProvisionDirectory, {}, context, 120_000),
      ['created', 'existing'],
      'a provisioning result',
    );
  }

  async listMessages(request: ListMessagesRequest, context: CallContext): Promise<MessagePage> {
    return expectObject(
      await this.rpc.requestValidated(NHSMAIL_SUBJECTS.messageList, ListMessagesRequest, request, context),
      ['messages', 'unread', 'total'],
      'a page of messages',
    );
  }

  async readMessage(request: MessageRef, context: CallContext): Promise<MessageContent> {
    return expectObject(
      await this.rpc.requestValidated(NHSMAIL_SUBJECTS.messageRead, MessageRef, request, context),
      ['id', 'headers', 'attachments'],
      'a message',
    );
  }

  async markMessage(request: MarkMessageRequest, context: CallContext): Promise<MessageSummary> {
    return expectObject(
      await this.rpc.requestValidated(NHSMAIL_SUBJECTS.messageMark, MarkMessageRequest, request, context),
      ['id', 'seen'],
      'a message summary',
    );
  }

  async deleteMessage(request: MessageRef, context: CallContext): Promise<{ deleted: true }> {
    return expectObject(
      await this.rpc.requestValidated(NHSMAIL_SUBJECTS.messageDelete, MessageRef, request, context),
      ['deleted'],
      'a deletion result',
    );
  }

  async sendMessage(request: SendMessageRequest, context: CallContext): Promise<SentMessage> {
    return expectObject(
      await this.rpc.requestValidated(NHSMAIL_SUBJECTS.messageSend, SendMessageRequest, request, context, {
        timeoutMs: 30_000,
      }),
      ['id', 'messageId', 'recipients'],
      'a sent message',
    );
  }

  async readAttachment(request: AttachmentPieceRequest, context: CallContext): Promise<AttachmentPiece> {
    return expectObject(
      await this.rpc.requestValidated(NHSMAIL_SUBJECTS.messageAttachment, AttachmentPieceRequest, request, context, {
        timeoutMs: 30_000,
      }),
      ['contentType', 'data', 'next', 'sizeBytes'],
      'an attachment piece',
    );
  }

  async listQueue(request: ListQueueRequest, context: CallContext): Promise<QueuePage> {
    return expectObject(
      await this.rpc.requestValidated(NHSMAIL_SUBJECTS.queueList, ListQueueRequest, request, context),
      ['deliveries', 'total'],
      'a page of the queue',
    );
  }

  async retryQueue(request: RetryQueueRequest, context: CallContext): Promise<QueueActionResult> {
    return expectObject(
      await this.rpc.requestValidated(NHSMAIL_SUBJECTS.queueRetry, RetryQueueRequest, request, context),
      ['changed', 'inFlight'],
      'a queue action result',
    );
  }

  async purgeQueue(request: PurgeQueueRequest, context: CallContext): Promise<QueueActionResult> {
    return expectObject(
      await this.rpc.requestValidated(NHSMAIL_SUBJECTS.queuePurge, PurgeQueueRequest, request, context),
      ['changed', 'inFlight'],
      'a queue action result',
    );
  }

  async health(context: CallContext, timeoutMs?: number): Promise<{ status: 'ok'; service: string }> {
    return this.rpc.request(NHSMAIL_SUBJECTS.healthCheck, {}, context, timeoutMs);
  }
}
