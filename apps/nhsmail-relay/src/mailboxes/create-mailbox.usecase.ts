import { Injectable } from '@nestjs/common';
import type { CreateMailboxRequest, Mailbox } from '@platform/contracts-nhsmail';
import { PlatformError } from '@platform/shared-errors';
import type { CallContext } from '@platform/shared-nats';
import { IdempotentWrites, writeKey } from '@platform/shared-persistence';
import { MailDomains } from './mail-domains';
import { MailboxRepository, publicMailbox } from './mailbox.repository';
import { hashPassword } from './password';

/**
 * Creates a mailbox in one of the platform's domains, its password (if any) stored as a scrypt hash. Exactly
 * once per (caller, X-Request-ID); the password is never part of the answer kept for retries.
 */
@Injectable()
export class CreateMailboxUseCase {
  constructor(
    private readonly mailboxes: MailboxRepository,
    private readonly writes: IdempotentWrites,
    private readonly domains: MailDomains,
  ) {}

  async execute(request: CreateMailboxRequest, context: CallContext): Promise<Mailbox> {
    if (!this.domains.isLocal(request.address)) {
      throw new PlatformError('NHSMAIL_NOT_PLATFORM_DOMAIN', undefined, {
        diagnostics: `Mailboxes are made in ${this.domains.all.join(', ')} only`,
      });
    }
    const passwordHash = request.password === undefined ? null : await hashPassword(request.password);
    const key = writeKey(context, 'mailbox.create', request);
    return this.writes.run(key, async (transaction) => {
      const created = await this.mailboxes.insert(transaction, {
        address: request.address,
        kind: request.kind,
        displayName: request.displayName,
        ownerUsername: request.ownerUsername ?? null,
        odsCode: request.odsCode ?? null,
        passwordHash,
        members: [...new Set(request.members ?? [])],
        createdBy: key.callerId,
      });
      if (!created) throw new PlatformError('NHSMAIL_MAILBOX_EXISTS');
      const mailbox = await this.mailboxes.find(request.address, transaction);
      if (!mailbox) throw new PlatformError('REC_SERVER_ERROR', 'The mailbox just created could not be read');
      return publicMailbox(mailbox);
    });
  }
}
