import { PlatformError } from '@platform/shared-errors';
import type { CallContext, NatsRpcClient } from '@platform/shared-nats';
import './errors';
import { CreateMailboxRequest, GetMailboxRequest, MAILBOX_KINDS, type Mailbox } from './mailboxes';
import { NHSMAIL_SUBJECTS } from './subjects';

/** What other projects may ask of nhsmail-relay. */
export interface NhsmailRelayApi {
  /** Creates a mailbox; exactly once per (caller, X-Request-ID). */
  createMailbox(request: CreateMailboxRequest, context: CallContext): Promise<Mailbox>;
  /** One mailbox (NHSMAIL_MAILBOX_NOT_FOUND otherwise). */
  getMailbox(request: GetMailboxRequest, context: CallContext): Promise<Mailbox>;
  health(context: CallContext, timeoutMs?: number): Promise<{ status: 'ok'; service: string }>;
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

  async health(context: CallContext, timeoutMs?: number): Promise<{ status: 'ok'; service: string }> {
    return this.rpc.request(NHSMAIL_SUBJECTS.healthCheck, {}, context, timeoutMs);
  }
}
