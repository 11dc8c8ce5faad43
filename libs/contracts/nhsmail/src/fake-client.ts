import { PlatformError } from '@platform/shared-errors';
import { validatePayload, type CallContext } from '@platform/shared-nats';
import type { NhsmailRelayApi } from './client';
import './errors';
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

  health(): Promise<{ status: 'ok'; service: string }> {
    return Promise.resolve({ status: 'ok', service: 'nhsmail-relay' });
  }
}
