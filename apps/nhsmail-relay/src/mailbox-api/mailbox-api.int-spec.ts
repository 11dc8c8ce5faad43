import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import type { UpsertOrganisationRequest } from '@platform/contracts-n3';
import { NhsmailRelayClient, type MessageSummary } from '@platform/contracts-nhsmail';
import {
  GATEWAY_ISSUER,
  NatsRpcClient,
  generatePlatformCallerKeys,
  signerFrom,
  type CallContext,
} from '@platform/shared-nats';
import { allAtOnce, outcomes, tally } from '@platform/shared-testing';
import {
  eventually,
  registryAdmin,
  startNhsmailRelayUnderTest,
  type NhsmailRelayUnderTest,
} from '../nhsmail-relay.test-harness';

/** A platform user as the gateway states them on the bus (signed with the gateway's key). */
function user(username: string, organisation: string, requestId = randomUUID()): CallContext {
  return { requestId, caller: { id: `user-${username}`, username, roles: ['pharmacist'], organisation } };
}

async function rejectionOf(promise: Promise<unknown>): Promise<{ code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string };
  }
  throw new Error('expected a refusal');
}

/** A small message limit for this file, so that a request under the bus's 1 MB can pass it. */
const LIMIT = 200_000;

describe('the mailbox API over NATS (personal and shared mailboxes, list, read, mark, delete)', () => {
  let relay: NhsmailRelayUnderTest;
  const priya = () => user('priya.shah', 'FCG72');
  const tom = () => user('tom.okafor', 'RR8');

  /** Mail from outside to a platform mailbox through the relay port, as another organisation's server sends it. */
  async function deliver(to: string, subject: string, extra: Mail.Options = {}): Promise<void> {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: relay.relayPort,
      secure: false,
      ignoreTLS: true,
    });
    await transport.sendMail({ from: 'gp.surgery@outside.example', to, subject, text: `About ${subject}`, ...extra });
    transport.close();
  }

  async function waitForInbox(mailbox: string, count: number, context: CallContext): Promise<void> {
    const page = await eventually(
      () => relay.client.listMessages({ mailbox }, context),
      (found) => found.total >= count,
    );
    expect(page.total).toBe(count);
  }

  beforeAll(async () => {
    relay = await startNhsmailRelayUnderTest({
      schemaPrefix: 'nhsmail_api',
      env: { NHSMAIL_MAX_MESSAGE_BYTES: String(LIMIT) },
    });
  });

  afterAll(async () => {
    await relay?.stop();
  });

  it('makes a personal mailbox on first use, once for 20 simultaneous first calls, with a suffix when the name is taken', async () => {
    // Someone else already holds the plain address: the user gets the next free one.
    await relay.client.createMailbox(
      { address: 'sam.jones@nhs.net', kind: 'personal', displayName: 'Sam Jones', ownerUsername: 'sam.jones.old' },
      registryAdmin(),
    );
    const replies = outcomes(await allAtOnce(20, 10_000, () => relay.client.myMailboxes(user('sam.jones', 'A83008'))));
    expect(tally(replies, (reply) => (typeof reply === 'string' ? reply : reply.personal.address))).toEqual({
      'sam.jones2@nhs.net': 20,
    });
    const mine = await relay.client.myMailboxes(priya());
    expect(mine.personal).toMatchObject({
      address: 'priya.shah@nhs.net',
      kind: 'personal',
      ownerUsername: 'priya.shah',
    });
    const rows = await relay.db.query(
      `SELECT count(*)::int AS n FROM "${relay.schema}".mailbox WHERE owner_username = 'sam.jones'`,
    );
    expect(rows.rows[0]).toEqual({ n: 1 });
  });

  it('makes firstname.lastname@nhs.net for a user by registry-admin, the same user once, namesakes with a suffix', async () => {
    const first = await relay.client.provisionPersonalMailbox(
      { username: 'alex.c', firstName: 'Alex', lastName: "O'Brien Carter" },
      registryAdmin(),
    );
    expect(first).toMatchObject({
      address: 'alex.obrien-carter@nhs.net',
      ownerUsername: 'alex.c',
      displayName: "Alex O'Brien Carter",
    });
    await expect(
      relay.client.provisionPersonalMailbox(
        { username: 'alex.c', firstName: 'Alex', lastName: 'Other' },
        registryAdmin(),
      ),
    ).resolves.toMatchObject({ address: 'alex.obrien-carter@nhs.net' });
    await expect(
      relay.client.provisionPersonalMailbox(
        { username: 'alex.c2', firstName: 'Alex', lastName: "O'Brien Carter" },
        registryAdmin(),
      ),
    ).resolves.toMatchObject({ address: 'alex.obrien-carter2@nhs.net' });
    await expect(
      relay.client.provisionPersonalMailbox(
        { username: 'zoe.a', firstName: 'Zoë', lastName: 'Ångström' },
        registryAdmin(),
      ),
    ).resolves.toMatchObject({ address: 'zoe.angstrom@nhs.net' });
    // The user's first use finds the mailbox made for them.
    await expect(relay.client.myMailboxes(user('alex.c', 'A83008'))).resolves.toMatchObject({
      personal: { address: 'alex.obrien-carter@nhs.net' },
    });
    expect(
      (
        await rejectionOf(
          relay.client.provisionPersonalMailbox({ username: 'x.y', firstName: 'X', lastName: 'Y' }, priya()),
        )
      ).code,
    ).toBe('ACCESS_DENIED');
    expect(
      (
        await rejectionOf(
          relay.client.provisionPersonalMailbox({ username: 'x.y', firstName: '…', lastName: 'Y' }, registryAdmin()),
        )
      ).code,
    ).toBe('INVALID_VALUE');
  });

  it("makes pharmacy.<ODS>@nhs.net shared mailboxes (registry-admin only) whose members are the organisation's users", async () => {
    const admin = registryAdmin();
    const first = await relay.client.provisionSharedMailboxes({ odsCodes: ['FCG72', 'FA565', 'FCG72'] }, admin);
    expect(first).toEqual({ created: ['pharmacy.fa565@nhs.net', 'pharmacy.fcg72@nhs.net'], existing: [] });
    // The same request again (a retry) gets the same answer; a new one finds them existing.
    await expect(
      relay.client.provisionSharedMailboxes({ odsCodes: ['FCG72', 'FA565', 'FCG72'] }, admin),
    ).resolves.toEqual(first);
    await expect(relay.client.provisionSharedMailboxes({ odsCodes: ['FCG72'] }, registryAdmin())).resolves.toEqual({
      created: [],
      existing: ['pharmacy.fcg72@nhs.net'],
    });
    expect((await rejectionOf(relay.client.provisionSharedMailboxes({ odsCodes: ['FCG72'] }, priya()))).code).toBe(
      'ACCESS_DENIED',
    );
    expect(
      (await rejectionOf(relay.client.provisionSharedMailboxes({ odsCodes: ['fcg72'] }, registryAdmin()))).code,
    ).toBe('INVALID_VALUE');
    const mine = await relay.client.myMailboxes(priya());
    expect(mine.shared.map((mailbox) => mailbox.address)).toEqual(['pharmacy.fcg72@nhs.net']);

    // From the N3 registry's organisation directory: every active pharmacy, nothing else.
    const organisation = (odsCode: string, role: string, status: string) =>
      relay.n3.upsertOrganisation(
        { odsCode, name: `Test ${odsCode}`, role, status, addressLines: [] } as unknown as UpsertOrganisationRequest,
        registryAdmin(),
      );
    await organisation('FV111', 'pharmacy', 'active');
    await organisation('FV222', 'pharmacy', 'active');
    await organisation('FV333', 'pharmacy', 'closed');
    await organisation('A11111', 'gp-practice', 'active');
    await expect(relay.client.provisionPharmacyMailboxes(registryAdmin())).resolves.toEqual({
      created: ['pharmacy.fv111@nhs.net', 'pharmacy.fv222@nhs.net'],
      existing: [],
    });
    await expect(relay.client.provisionPharmacyMailboxes(registryAdmin())).resolves.toEqual({
      created: [],
      existing: ['pharmacy.fv111@nhs.net', 'pharmacy.fv222@nhs.net'],
    });
    expect((await rejectionOf(relay.client.provisionPharmacyMailboxes(priya()))).code).toBe('ACCESS_DENIED');
  });

  it('lists, filters, reads (parsed, audited, marked read), marks unread and deletes', async () => {
    const context = priya();
    const mailbox = (await relay.client.myMailboxes(context)).personal.address;
    await deliver(mailbox, 'Discharge summary', {
      html: '<p>Summary attached</p>',
      attachments: [{ filename: 'summary.pdf', content: Buffer.from('%PDF-1.4 test'), contentType: 'application/pdf' }],
    });
    await deliver(mailbox, 'Clinic letter');
    await waitForInbox(mailbox, 2, context);

    const page = await relay.client.listMessages({ mailbox, unreadOnly: true }, context);
    expect(page).toMatchObject({ total: 2, unread: 2, offset: 0, limit: 50 });
    expect(page.messages.map((message) => message.subject).sort()).toEqual(['Clinic letter', 'Discharge summary']);
    const paged = await relay.client.listMessages({ mailbox, limit: 1, offset: 1 }, context);
    expect(paged.messages).toHaveLength(1);
    expect(paged.total).toBe(2);
    const searched = await relay.client.listMessages({ mailbox, subject: 'discharge', from: 'gp.surgery@' }, context);
    expect(searched.messages.map((message) => message.subject)).toEqual(['Discharge summary']);
    expect((await relay.client.listMessages({ mailbox, subject: '%' }, context)).total).toBe(0);
    expect((await relay.client.listMessages({ mailbox, since: '2999-01-01' }, context)).total).toBe(0);

    const id = searched.messages[0]?.id ?? '';
    const read = await relay.client.readMessage({ mailbox, id }, context);
    expect(read).toMatchObject({
      id,
      subject: 'Discharge summary',
      from: 'gp.surgery@outside.example',
      to: [mailbox],
      seen: true,
      text: expect.stringContaining('About Discharge summary'),
      html: expect.stringContaining('Summary attached'),
      attachments: [{ index: 0, filename: 'summary.pdf', contentType: 'application/pdf', sizeBytes: 13 }],
    });
    expect(read.headers.find((header) => header.name === 'subject')?.value).toBe('Discharge summary');
    const piece = await relay.client.readAttachment({ mailbox, id, index: 0 }, context);
    expect(piece).toMatchObject({ filename: 'summary.pdf', contentType: 'application/pdf', sizeBytes: 13, next: null });
    expect(Buffer.from(piece.data, 'base64').toString()).toBe('%PDF-1.4 test');
    expect((await rejectionOf(relay.client.readAttachment({ mailbox, id, index: 1 }, context))).code).toBe(
      'NHSMAIL_MESSAGE_NOT_FOUND',
    );
    expect((await rejectionOf(relay.client.readAttachment({ mailbox, id, index: 0 }, tom()))).code).toBe(
      'NHSMAIL_MAILBOX_FORBIDDEN',
    );
    const audit = await relay.db.query(
      `SELECT mailbox, message, reader, what FROM "${relay.schema}".message_read_audit WHERE message = $1 ORDER BY id`,
      [id],
    );
    expect(audit.rows).toEqual([
      { mailbox, message: id, reader: 'priya.shah', what: 'read' },
      { mailbox, message: id, reader: 'priya.shah', what: 'attachment 0' },
    ]);
    expect((await relay.client.listMessages({ mailbox, unreadOnly: true }, context)).unread).toBe(1);

    await expect(relay.client.markMessage({ mailbox, id, seen: false }, priya())).resolves.toMatchObject({
      id,
      seen: false,
    });
    expect((await relay.client.listMessages({ mailbox }, context)).unread).toBe(2);

    const deletion = priya();
    await expect(relay.client.deleteMessage({ mailbox, id }, deletion)).resolves.toEqual({ deleted: true });
    // The same X-Request-ID again is the same answer; a new request finds nothing.
    await expect(relay.client.deleteMessage({ mailbox, id }, deletion)).resolves.toEqual({ deleted: true });
    expect((await rejectionOf(relay.client.deleteMessage({ mailbox, id }, priya()))).code).toBe(
      'NHSMAIL_MESSAGE_NOT_FOUND',
    );
    expect((await rejectionOf(relay.client.readMessage({ mailbox, id }, priya()))).code).toBe(
      'NHSMAIL_MESSAGE_NOT_FOUND',
    );
    expect((await relay.client.listMessages({ mailbox }, context)).total).toBe(1);
  });

  it('keeps one message consistent under 30 simultaneous mark-read, mark-unread and delete calls', async () => {
    const context = user('grace.hughes', 'A83008');
    const mailbox = (await relay.client.myMailboxes(context)).personal.address;
    await deliver(mailbox, 'Race');
    await waitForInbox(mailbox, 1, context);
    const id = (await relay.client.listMessages({ mailbox }, context)).messages[0]?.id ?? '';
    const replies = outcomes(
      await allAtOnce<MessageSummary | { deleted: true }>(30, 10_000, (index) =>
        index % 10 === 9
          ? relay.client.deleteMessage({ mailbox, id }, user('grace.hughes', 'A83008'))
          : relay.client.markMessage({ mailbox, id, seen: index % 2 === 0 }, user('grace.hughes', 'A83008')),
      ),
    );
    const kinds = tally(replies, (reply) =>
      typeof reply === 'string' ? reply : 'deleted' in reply ? 'deleted' : 'marked',
    );
    expect(kinds.deleted).toBe(1);
    expect(Object.keys(kinds).sort()).toEqual(expect.arrayContaining(['deleted']));
    expect(Object.keys(kinds).every((kind) => ['deleted', 'marked', 'NHSMAIL_MESSAGE_NOT_FOUND'].includes(kind))).toBe(
      true,
    );
    const left = await relay.db.query(
      `SELECT count(*)::int AS n FROM "${relay.schema}".mailbox_message WHERE id = $1`,
      [id],
    );
    expect(left.rows[0]).toEqual({ n: 0 });
    // 20 retries of one mark with the same X-Request-ID apply once and all answer alike.
    await deliver(mailbox, 'Retry');
    await waitForInbox(mailbox, 1, context);
    const other = (await relay.client.listMessages({ mailbox }, context)).messages[0]?.id ?? '';
    const same = user('grace.hughes', 'A83008');
    const retries = outcomes(
      await allAtOnce(20, 10_000, () => relay.client.markMessage({ mailbox, id: other, seen: true }, same)),
    );
    expect(tally(retries, (reply) => (typeof reply === 'string' ? reply : String(reply.seen)))).toEqual({ true: 20 });
    const answers = await relay.db.query(
      `SELECT count(*)::int AS n FROM "${relay.schema}".idempotent_request WHERE request_id = $1`,
      [same.requestId],
    );
    expect(answers.rows[0]).toEqual({ n: 1 });
  });

  it("plays the attacker: another user's mailbox, another organisation's shared mailbox, a forged or unsigned caller", async () => {
    const priyaBox = (await relay.client.myMailboxes(priya())).personal.address;
    await deliver('pharmacy.fcg72@nhs.net', 'For the pharmacy');
    await waitForInbox('pharmacy.fcg72@nhs.net', 1, priya());
    const shared =
      (await relay.client.listMessages({ mailbox: 'pharmacy.fcg72@nhs.net' }, priya())).messages[0]?.id ?? '';
    const ownId = (await relay.client.listMessages({ mailbox: priyaBox }, priya())).messages[0]?.id ?? '';
    const before = await relay.db.query(`SELECT count(*)::int AS n FROM "${relay.schema}".message_read_audit`);

    // Tom (another organisation) tries Priya's mailbox and the FCG72 pharmacy's.
    for (const attempt of [
      relay.client.listMessages({ mailbox: priyaBox }, tom()),
      relay.client.readMessage({ mailbox: priyaBox, id: ownId }, tom()),
      relay.client.markMessage({ mailbox: priyaBox, id: ownId, seen: true }, tom()),
      relay.client.deleteMessage({ mailbox: priyaBox, id: ownId }, tom()),
      relay.client.listMessages({ mailbox: 'pharmacy.fcg72@nhs.net' }, tom()),
      relay.client.readMessage({ mailbox: 'pharmacy.fcg72@nhs.net', id: shared }, tom()),
      // Priya's own mailbox id used against the pharmacy's shared one she may read: not in that mailbox.
      relay.client.listMessages({ mailbox: 'nobody.here@nhs.net' }, tom()),
    ]) {
      expect((await rejectionOf(attempt)).code).toBe('NHSMAIL_MAILBOX_FORBIDDEN');
    }
    expect(
      (await rejectionOf(relay.client.readMessage({ mailbox: 'pharmacy.fcg72@nhs.net', id: ownId }, priya()))).code,
    ).toBe('NHSMAIL_MESSAGE_NOT_FOUND');

    // Tom's statement signed with a key the relay does not trust, or no statement at all, claiming to be Priya.
    const forgedKeys = await generatePlatformCallerKeys([]);
    const forged = new NhsmailRelayClient(
      new NatsRpcClient(relay.connection, { timeoutMs: 5000, signer: signerFrom(forgedKeys, GATEWAY_ISSUER) }),
    );
    const unsigned = new NhsmailRelayClient(new NatsRpcClient(relay.connection, { timeoutMs: 5000 }));
    for (const client of [forged, unsigned]) {
      const refused = await rejectionOf(client.readMessage({ mailbox: priyaBox, id: ownId }, priya()));
      expect(refused.code).toBe('ACCESS_DENIED');
    }
    const after = await relay.db.query(`SELECT count(*)::int AS n FROM "${relay.schema}".message_read_audit`);
    expect(after.rows[0]).toEqual(before.rows[0]);
    const still = await relay.client.listMessages({ mailbox: priyaBox }, priya());
    expect(still.messages.find((message) => message.id === ownId)?.seen).toBe(false);
  });

  describe('sending', () => {
    const queued = async (): Promise<number> =>
      (await relay.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${relay.schema}".message`)).rows[0]?.n ?? 0;

    it('composes MIME, queues it like SMTP intake, and delivers to a mailbox and through the smarthost', async () => {
      const tomBox = (await relay.client.myMailboxes(tom())).personal.address;
      const priyaBox = (await relay.client.myMailboxes(priya())).personal.address;
      const sent = await relay.client.sendMessage(
        {
          mailbox: priyaBox,
          to: [tomBox, 'consultant@hospital.example'],
          subject: 'Referral letter',
          text: 'Please see the attached letter.',
          attachments: [
            {
              filename: 'letter.pdf',
              contentType: 'application/pdf',
              contentBase64: Buffer.from('%PDF-1.7 letter').toString('base64'),
            },
          ],
        },
        priya(),
      );
      expect(sent).toMatchObject({ recipients: 2, messageId: expect.stringMatching(/^<[^@>]+@[^@>]+>$/) });
      expect(sent.sizeBytes).toBeGreaterThan(100);
      await waitForInbox(tomBox, 1, tom());
      const [summary] = (await relay.client.listMessages({ mailbox: tomBox }, tom())).messages;
      const read = await relay.client.readMessage({ mailbox: tomBox, id: summary?.id ?? '' }, tom());
      expect(read).toMatchObject({
        from: priyaBox,
        subject: 'Referral letter',
        messageId: sent.messageId,
        text: expect.stringContaining('Please see the attached letter.'),
        attachments: [{ filename: 'letter.pdf', contentType: 'application/pdf', sizeBytes: 15 }],
      });
      const outside = await eventually(
        () => Promise.resolve(relay.sink.received.filter((mail) => mail.to.includes('consultant@hospital.example'))),
        (found) => found.length > 0,
      );
      expect(outside).toHaveLength(1);
      expect(outside[0]?.from).toBe(priyaBox);
      expect(outside[0]?.raw).toContain('DKIM-Signature:');
      const row = await relay.db.query(
        `SELECT received_via, authenticated_as FROM "${relay.schema}".message WHERE id = $1`,
        [sent.id],
      );
      expect(row.rows[0]).toEqual({ received_via: 'api', authenticated_as: 'priya.shah' });
    });

    it('sends as a shared mailbox for its organisation only, and refuses what SMTP refuses with nothing queued', async () => {
      const tomBox = (await relay.client.myMailboxes(tom())).personal.address;
      await expect(
        relay.client.sendMessage(
          { mailbox: 'pharmacy.fcg72@nhs.net', to: [tomBox], subject: 'From the pharmacy', text: 'x' },
          priya(),
        ),
      ).resolves.toMatchObject({ recipients: 1 });
      const before = await queued();
      const priyaBox = (await relay.client.myMailboxes(priya())).personal.address;
      const refusals = [
        relay.client.sendMessage({ mailbox: 'pharmacy.fcg72@nhs.net', to: [tomBox], subject: 'x', text: 'x' }, tom()),
        relay.client.sendMessage({ mailbox: priyaBox, to: [tomBox], subject: 'as priya', text: 'x' }, tom()),
        relay.client.sendMessage(
          {
            mailbox: priyaBox,
            to: [tomBox],
            subject: 'program',
            attachments: [{ filename: 'setup.exe', contentBase64: Buffer.from('MZ').toString('base64') }],
          },
          priya(),
        ),
        relay.client.sendMessage(
          {
            mailbox: priyaBox,
            to: [tomBox],
            subject: 'too big',
            attachments: [{ filename: 'scan.pdf', contentBase64: Buffer.alloc(LIMIT).toString('base64') }],
          },
          priya(),
        ),
        relay.client.sendMessage(
          { mailbox: priyaBox, to: ['no.such.person@nhs.net'], subject: 'x', text: 'x' },
          priya(),
        ),
        relay.client.sendMessage({ mailbox: priyaBox, to: ['Not An Address'], subject: 'x', text: 'x' }, priya()),
      ];
      const codes = [];
      for (const refusal of refusals) codes.push((await rejectionOf(refusal)).code);
      expect(codes).toEqual([
        'NHSMAIL_MAILBOX_FORBIDDEN',
        'NHSMAIL_MAILBOX_FORBIDDEN',
        'NHSMAIL_BLOCKED_ATTACHMENT',
        'NHSMAIL_MESSAGE_TOO_LARGE',
        'NHSMAIL_UNKNOWN_RECIPIENT',
        'INVALID_VALUE',
      ]);
      expect(await queued()).toBe(before);
    });

    it('queues once for 30 simultaneous sends with the same X-Request-ID, and all get the same answer', async () => {
      const grace = user('grace.hughes', 'A83008');
      const graceBox = (await relay.client.myMailboxes(grace)).personal.address;
      const tomBox = (await relay.client.myMailboxes(tom())).personal.address;
      const before = await queued();
      const replies = outcomes(
        await allAtOnce(30, 20_000, () =>
          relay.client.sendMessage({ mailbox: graceBox, to: [tomBox], subject: 'Once', text: 'only once' }, grace),
        ),
      );
      expect(tally(replies, (reply) => (typeof reply === 'string' ? reply : reply.id))).toEqual({
        [(replies[0] as { id: string }).id]: 30,
      });
      expect(await queued()).toBe(before + 1);
      const differently = await rejectionOf(
        relay.client.sendMessage({ mailbox: graceBox, to: [tomBox], subject: 'Other', text: 'x' }, grace),
      );
      expect(differently.code).toBe('INVALID_VALUE');
    });
  });
});
