import { Injectable } from '@nestjs/common';
import type { Mailbox } from '@platform/contracts-nhsmail';
import { PlatformError } from '@platform/shared-errors';
import type { Caller } from '@platform/shared-nats';
import { MailboxRepository } from '../mailboxes/mailbox.repository';

/**
 * Who may use a mailbox through the API: a personal (or application) mailbox its owner only; a shared one its
 * listed members and the users acting for its organisation (the signed caller's ODS code), which is how an
 * organisation's users become members of `pharmacy.<ODS>@`. Everything comes from the verified caller
 * statement, never from the payload. A mailbox that does not exist is refused like one that is not yours, so
 * the API does not tell which addresses exist.
 */
export function mayUse(mailbox: Mailbox, caller: Caller | undefined): boolean {
  const username = caller?.username;
  if (!username) return false;
  if (mailbox.kind === 'shared') {
    return (
      mailbox.members.includes(username) ||
      (caller.organisation !== undefined && caller.organisation === mailbox.odsCode)
    );
  }
  return mailbox.ownerUsername === username;
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
