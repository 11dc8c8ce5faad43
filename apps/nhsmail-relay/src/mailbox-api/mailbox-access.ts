import { Injectable } from '@nestjs/common';
import type { Mailbox } from '@platform/contracts-nhsmail';
import { PlatformError } from '@platform/shared-errors';
import type { Caller } from '@platform/shared-nats';
import { mayUseMailbox } from '../mailboxes/mailbox-use';
import { MailboxRepository } from '../mailboxes/mailbox.repository';

/**
 * Who may use a mailbox through the API: the relay's one rule (mailboxes/mailbox-use.ts, which SMTP applies as
 * well), for the verified caller statement, never the payload. A mailbox that does not exist is refused like one
 * that is not yours, so the API does not tell which addresses exist.
 */
export function mayUse(mailbox: Mailbox, caller: Caller | undefined): boolean {
  return mayUseMailbox(mailbox, { username: caller?.username, organisation: caller?.organisation });
}

@Injectable()
export class MailboxAccess {
  constructor(private readonly mailboxes: MailboxRepository) {}

  async authorise(address: string, caller: Caller | undefined): Promise<Mailbox> {
    const mailbox = await this.mailboxes.find(address);
    if (!mailbox || !mayUse(mailbox, caller)) throw new PlatformError('NHSMAIL_MAILBOX_FORBIDDEN');
    return mailbox;
  }
}
