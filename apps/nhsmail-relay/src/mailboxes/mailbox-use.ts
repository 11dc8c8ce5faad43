import type { Mailbox } from '@platform/contracts-nhsmail';

/** Who wants to use a mailbox, as the way they signed in proves it. */
export interface MailboxUser {
  username: string | null | undefined;
  /**
   * The organisation they act for (an ODS code): the signed caller statement's, through the API; over SMTP, the
   * one organisation a XOAUTH2 token names (a password sign-in names none, so it reaches shared mailboxes only
   * as a listed member).
   */
  organisation?: string | null;
}

/**
 * The one rule for using a mailbox, over SMTP (sending as it) and through the mailbox API (reading and sending):
 * a personal or application mailbox is its owner's; a shared one its listed members' and that of the users
 * acting for its organisation (how an organisation's users reach `pharmacy.<ODS>@` and `gp.<ODS>@`).
 */
export function mayUseMailbox(
  mailbox: Pick<Mailbox, 'kind' | 'ownerUsername' | 'members' | 'odsCode'>,
  user: MailboxUser,
): boolean {
  const username = user.username;
  if (!username) return false;
  if (mailbox.kind === 'shared') {
    return (
      mailbox.members.includes(username) ||
      (typeof user.organisation === 'string' &&
        mailbox.odsCode !== null &&
        user.organisation.toUpperCase() === mailbox.odsCode.toUpperCase())
    );
  }
  return mailbox.ownerUsername === username;
}
