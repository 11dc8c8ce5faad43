import { PlatformError } from '@platform/shared-errors';
import { validatePayload, type CallContext } from '@platform/shared-nats';
import type { NhsmailRelayApi } from './client';
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
import { CreateMailboxRequest, GetMailboxRequest, type Mailbox } from './mailboxes';

/** An in-memory nhsmail-relay for consumers' unit tests: same validation, answers and error codes as the real client. */
export class FakeNhsmailRelayClient implements NhsmailRelayApi {
  private readonly mailboxes = new Map<string, Mailbox>();
  /** Answers by caller and X-Request-ID, so a retried write returns the first answer. */
  private readonly writes = new Map<string, Mailbox>();

  constructor(private readonly domains: readonly string[] = ['nhs.net']) {}

  async createMailbox(request: CreateMailboxRequest, context: CallContext): Promise<Mailbox> {
    const checked = await validatePayload(CreateMailboxRequest, request);
    const key = `${context.caller?.id ?? 'anonymous'} ${context.requestId}`;
    const earlier = this.writes.get(key);
    if (earlier) return earlier;
    if (!this.domains.includes(checked.address.split('@')[1] ?? '')) {
      throw new PlatformError('NHSMAIL_NOT_PLATFORM_DOMAIN');
    }
    if (this.mailboxes.has(checked.address)) throw new PlatformError('NHSMAIL_MAILBOX_EXISTS');
    const mailbox: Mailbox = {
      address: checked.address,
      kind: checked.kind,
      displayName: checked.displayName,
      ownerUsername: checked.ownerUsername ?? null,
      odsCode: checked.odsCode ?? null,
      members: [...new Set(checked.members ?? [])].sort(),
      hasPassword: checked.password !== undefined,
      createdAt: new Date().toISOString(),
    };
    this.mailboxes.set(mailbox.address, mailbox);
    this.writes.set(key, mailbox);
    return mailbox;
  }

  async getMailbox(request: GetMailboxRequest): Promise<Mailbox> {
    const { address } = await validatePayload(GetMailboxRequest, request);
    const mailbox = this.mailboxes.get(address);
    if (!mailbox) throw new PlatformError('NHSMAIL_MAILBOX_NOT_FOUND');
    return mailbox;
  }

  /** The caller's personal mailbox (made on first call from their username) and the shared ones they may use. */
  myMailboxes(context: CallContext): Promise<MyMailboxes> {
    const username = context.caller?.username;
    if (!username) return Promise.reject(new PlatformError('NHSMAIL_MAILBOX_FORBIDDEN'));
    const mine = [...this.mailboxes.values()].find((m) => m.kind === 'personal' && m.ownerUsername === username);
    const personal =
      mine ?? this.add(`${username.toLowerCase()}@${this.domains[0] ?? 'nhs.net'}`, 'personal', username);
    const shared = [...this.mailboxes.values()].filter(
      (m) =>
        m.kind === 'shared' &&
        (m.members.includes(username) ||
          (context.caller?.organisation !== undefined && m.odsCode === context.caller.organisation)),
    );
    return Promise.resolve({ personal, shared });
  }

  async provisionSharedMailboxes(request: ProvisionSharedMailboxesRequest): Promise<ProvisionedMailboxes> {
    const { odsCodes } = await validatePayload(ProvisionSharedMailboxesRequest, request);
    const result: ProvisionedMailboxes = { created: [], existing: [] };
    for (const code of [...new Set(odsCodes)].sort()) {
      const address = `pharmacy.${code.toLowerCase()}@${this.domains[0] ?? 'nhs.net'}`;
      if (this.mailboxes.has(address)) result.existing.push(address);
      else {
        this.add(address, 'shared', null, code);
        result.created.push(address);
      }
    }
    return result;
  }

  async provisionPersonalMailbox(request: ProvisionPersonalMailboxRequest): Promise<Mailbox> {
    const checked = await validatePayload(ProvisionPersonalMailboxRequest, request);
    const mine = [...this.mailboxes.values()].find(
      (m) => m.kind === 'personal' && m.ownerUsername === checked.username,
    );
    if (mine) return mine;
    const local = `${checked.firstName}.${checked.lastName}`.toLowerCase().replace(/[^a-z0-9.-]+/g, '-');
    const domain = this.domains[0] ?? 'nhs.net';
    let address = `${local}@${domain}`;
    for (let n = 2; this.mailboxes.has(address); n += 1) address = `${local}${n}@${domain}`;
    return this.add(address, 'personal', checked.username);
  }

  /** The fake has no organisation directory: nothing to make. */
  provisionPharmacyMailboxes(): Promise<ProvisionedMailboxes> {
    return Promise.resolve({ created: [], existing: [] });
  }

  /** The fake has no organisation directory: nothing to make. */
  provisionDirectoryMailboxes(): Promise<ProvisionedMailboxes> {
    return Promise.resolve({ created: [], existing: [] });
  }

  /** The fake holds no messages (it has no SMTP intake): every mailbox the caller may use is empty. */
  async listMessages(request: ListMessagesRequest, context: CallContext): Promise<MessagePage> {
    const checked = await validatePayload(ListMessagesRequest, request);
    this.authorise(checked.mailbox, context);
    return { messages: [], unread: 0, total: 0, offset: checked.offset ?? 0, limit: checked.limit ?? 50 };
  }

  async readMessage(request: MessageRef, context: CallContext): Promise<MessageContent> {
    this.authorise((await validatePayload(MessageRef, request)).mailbox, context);
    throw new PlatformError('NHSMAIL_MESSAGE_NOT_FOUND');
  }

  async markMessage(request: MarkMessageRequest, context: CallContext): Promise<MessageSummary> {
    this.authorise((await validatePayload(MarkMessageRequest, request)).mailbox, context);
    throw new PlatformError('NHSMAIL_MESSAGE_NOT_FOUND');
  }

  async deleteMessage(request: MessageRef, context: CallContext): Promise<{ deleted: true }> {
    this.authorise((await validatePayload(MessageRef, request)).mailbox, context);
    throw new PlatformError('NHSMAIL_MESSAGE_NOT_FOUND');
  }

  /** Checks the request and the sender's right as the relay does; the fake delivers nothing. */
  async sendMessage(request: SendMessageRequest, context: CallContext): Promise<SentMessage> {
    const checked = await validatePayload(SendMessageRequest, request);
    this.authorise(checked.mailbox, context);
    const id = context.requestId;
    return {
      id,
      messageId: `<${id}@fake.nhs.net>`,
      recipients: checked.to.length + (checked.cc?.length ?? 0),
      sizeBytes: 0,
    };
  }

  async readAttachment(request: AttachmentPieceRequest, context: CallContext): Promise<AttachmentPiece> {
    this.authorise((await validatePayload(AttachmentPieceRequest, request)).mailbox, context);
    throw new PlatformError('NHSMAIL_MESSAGE_NOT_FOUND');
  }

  /** The fake's queue is always empty (it has no SMTP intake). */
  async listQueue(request: ListQueueRequest): Promise<QueuePage> {
    const checked = await validatePayload(ListQueueRequest, request);
    return { deliveries: [], total: 0, offset: checked.offset ?? 0, limit: checked.limit ?? 50 };
  }

  async retryQueue(request: RetryQueueRequest): Promise<QueueActionResult> {
    await validatePayload(RetryQueueRequest, request);
    return { changed: 0, inFlight: 0 };
  }

  async purgeQueue(request: PurgeQueueRequest): Promise<QueueActionResult> {
    await validatePayload(PurgeQueueRequest, request);
    return { changed: 0, inFlight: 0 };
  }

  private authorise(address: string, context: CallContext): void {
    const mailbox = this.mailboxes.get(address);
    const username = context.caller?.username;
    const allowed =
      mailbox !== undefined &&
      username !== undefined &&
      (mailbox.kind === 'shared'
        ? mailbox.members.includes(username) || mailbox.odsCode === context.caller?.organisation
        : mailbox.ownerUsername === username);
    if (!allowed) throw new PlatformError('NHSMAIL_MAILBOX_FORBIDDEN');
  }

  private add(address: string, kind: Mailbox['kind'], owner: string | null, odsCode: string | null = null): Mailbox {
    const mailbox: Mailbox = {
      address,
      kind,
      displayName: owner ?? `Pharmacy ${odsCode ?? ''}`,
      ownerUsername: owner,
      odsCode,
      members: [],
      hasPassword: false,
      createdAt: new Date().toISOString(),
    };
    this.mailboxes.set(address, mailbox);
    return mailbox;
  }

  health(): Promise<{ status: 'ok'; service: string }> {
    return Promise.resolve({ status: 'ok', service: 'nhsmail-relay' });
  }
}
