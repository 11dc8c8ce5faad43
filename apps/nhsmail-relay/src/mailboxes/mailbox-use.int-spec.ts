import { randomUUID } from 'node:crypto';
import type { CallContext } from '@platform/shared-nats';
import {
  registryAdmin,
  startNhsmailRelayUnderTest,
  submissionClient,
  type NhsmailRelayUnderTest,
} from '../nhsmail-relay.test-harness';

const SHARED = 'gp.y12345@nhs.net';

function caller(username: string, organisation?: string): CallContext {
  return {
    requestId: randomUUID(),
    caller: { id: `user-${username}`, username, roles: ['clinician'], ...(organisation ? { organisation } : {}) },
  };
}

/**
 * One rule for using a shared mailbox (mailboxes/mailbox-use.ts), over SMTP submission (sending as it) and through
 * the mailbox API (sending from it): its listed members, and the users acting for its organisation (over SMTP,
 * the one organisation a XOAUTH2 token names). Real relay, SMTP, NATS and PostgreSQL.
 */
describe('the same shared-mailbox rule over SMTP and the mailbox API', () => {
  let relay: NhsmailRelayUnderTest;

  beforeAll(async () => {
    relay = await startNhsmailRelayUnderTest({ schemaPrefix: 'nhsmail_use' });
    for (const username of ['ann.lee', 'bob.member', 'recipient.one']) {
      await relay.client.createMailbox(
        { address: `${username}@nhs.net`, kind: 'personal', displayName: username, ownerUsername: username },
        registryAdmin(),
      );
    }
    await relay.client.createMailbox(
      { address: SHARED, kind: 'shared', displayName: 'GP Y12345', odsCode: 'Y12345', members: ['bob.member'] },
      registryAdmin(),
    );
  }, 60_000);

  afterAll(async () => {
    await relay?.stop();
  });

  /** Sends as the shared mailbox over SMTP, signed in to `username`'s own mailbox with a token naming `organisations`. */
  async function smtpSendAsShared(username: string, organisations: string[]): Promise<string> {
    const client = submissionClient(relay.submissionPort, {
      type: 'OAuth2',
      user: `${username}@nhs.net`,
      accessToken: await relay.token(username, { nhsd_organisations: organisations }),
    });
    try {
      const info = await client.sendMail({
        from: SHARED,
        to: 'recipient.one@nhs.net',
        subject: 'As the practice',
        text: 'x',
      });
      return info.response.slice(0, 3);
    } catch (error) {
      return String((error as { responseCode?: number }).responseCode ?? 'error');
    } finally {
      client.close();
    }
  }

  async function apiSendAsShared(username: string, organisation?: string): Promise<string> {
    try {
      await relay.client.sendMessage(
        { mailbox: SHARED, to: ['recipient.one@nhs.net'], subject: 'As the practice', text: 'x' },
        caller(username, organisation),
      );
      return 'sent';
    } catch (error) {
      return String((error as { code?: string }).code);
    }
  }

  it("admits the practice's users and the mailbox's members on both paths, and nobody else on either", async () => {
    // A user of the practice who is not a listed member: admitted by organisation on both paths.
    expect(await smtpSendAsShared('ann.lee', ['Y12345'])).toBe('250');
    expect(await apiSendAsShared('ann.lee', 'Y12345')).toBe('sent');
    // The same user acting for another organisation: refused on both.
    expect(await smtpSendAsShared('ann.lee', ['A83008'])).toBe('553');
    expect(await apiSendAsShared('ann.lee', 'A83008')).toBe('NHSMAIL_MAILBOX_FORBIDDEN');
    // A token naming several organisations says not which one she acts for (the API would need the header):
    // over SMTP she is a non-member without an organisation, as through the API without one.
    expect(await smtpSendAsShared('ann.lee', ['Y12345', 'A83008'])).toBe('553');
    expect(await apiSendAsShared('ann.lee')).toBe('NHSMAIL_MAILBOX_FORBIDDEN');
    // A listed member, whatever organisation: admitted on both.
    expect(await smtpSendAsShared('bob.member', [])).toBe('250');
    expect(await apiSendAsShared('bob.member')).toBe('sent');
  }, 60_000);
});
