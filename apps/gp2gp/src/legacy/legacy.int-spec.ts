import 'reflect-metadata';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Client } from 'pg';
import type { NatsConnection } from 'nats';
import {
  GP2GP_EVENT_STREAM,
  GP2GP_EVENTS,
  GP2GP_FRAGMENT_BUCKET,
  type Gp2gpLegacyClient,
  type LegacyTransferReply,
} from '@platform/contracts-gp2gp';
import type { CallContext } from '@platform/shared-nats';
import { allAtOnce, outcomes, referencePath, rejectionOf, tally } from '@platform/shared-testing';
import {
  asMime,
  carriedText,
  extractMessage,
  fixture,
  fixtureText,
  fragmentMessage,
  indexMessage,
  REQUESTING_ODS,
  SENDING_ODS,
  type MhsJson,
} from './legacy-fixtures.test-harness';
import { startLegacyUnderTest, type LegacyUnderTest } from './legacy.test-harness';

function as(organisation: string, roles: string[] = ['practice-admin'], id = `user-${organisation}`): CallContext {
  return { requestId: randomUUID(), caller: { id, roles, organisation } };
}
const requester = (): CallContext => as(REQUESTING_ODS);
/** The legacy practice's system, with an application token for its organisation. */
const sender = (): CallContext => as(SENDING_ODS, ['practice-admin'], 'legacy-system-b83002');

const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');
/** Base64 as MIME reads it (the fixtures' line separators are quotes). */
const mimeBase64 = (text: string): Buffer => Buffer.from(text.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');

interface DocumentReference {
  id: string;
  content: { attachment: { contentType: string; url: string; size: number; title?: string } }[];
  extension: { url: string; valueString: string }[];
}

describe('gp2gp legacy (HL7 V3 / MHS) practices: the large-message protocol against PostgreSQL and JetStream', () => {
  let under: LegacyUnderTest;
  let client: Gp2gpLegacyClient;
  let db: Client;
  let schema: string;
  let connection: NatsConnection;

  beforeAll(async () => {
    under = await startLegacyUnderTest();
    ({ client, db, schema, connection } = under);
  });

  afterAll(async () => {
    await under?.stop();
  });

  async function open(): Promise<string> {
    const conversationId = randomUUID();
    const opened = await client.open({ conversationId, sendingOds: SENDING_ODS }, requester());
    expect(opened).toMatchObject({ state: 'EHR_EXTRACT_REQUEST_ACCEPTED', requestingOds: REQUESTING_ODS });
    return conversationId;
  }

  const deliver = (conversationId: string, message: MhsJson, context = sender()) =>
    client.deliver({ conversationId, message }, context);

  /** The attachment as the requesting practice reads it: piece after piece through its subject. */
  async function attachmentBytes(url: string, context = requester()): Promise<Buffer> {
    const match = /^urn:nhs-platform:gp2gp:legacy-attachment:([0-9a-f-]{36})\/(\d+)$/.exec(url);
    if (!match) throw new Error(`not a legacy attachment address: ${url}`);
    const chunks: Buffer[] = [];
    let cursor: string | undefined;
    let pieces = 0;
    do {
      const piece = await client.readAttachment(
        { conversationId: match[1], position: Number(match[2]), ...(cursor ? { cursor } : {}) },
        context,
      );
      chunks.push(Buffer.from(piece.data, 'base64'));
      cursor = piece.cursor;
      pieces += 1;
    } while (cursor && pieces < 100);
    return Buffer.concat(chunks);
  }

  /** The events gp2gp published about a conversation (its outbox relays them; waits up to 5 s for the first). */
  async function eventsAbout(conversationId: string): Promise<{ subject: string; data: Record<string, unknown> }[]> {
    const jsm = await connection.jetstreamManager();
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const info = await jsm.streams.info(GP2GP_EVENT_STREAM);
      const found = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
        const message = await jsm.streams.getMessage(GP2GP_EVENT_STREAM, { seq }).catch(() => null);
        const data = message?.json<Record<string, unknown>>();
        if (message && data?.['conversationId'] === conversationId) found.push({ subject: message.subject, data });
      }
      if (found.length > 0) return found;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return [];
  }

  async function objectNames(conversationId: string): Promise<string[]> {
    const store = await connection.jetstream().views.os(GP2GP_FRAGMENT_BUCKET);
    return (await store.list())
      .filter((entry) => !entry.deleted && entry.name.startsWith(`legacy/${conversationId}/`))
      .map((entry) => entry.name);
  }

  function documentsOf(poll: LegacyTransferReply): {
    binary: { data: string; contentType: string };
    documents: DocumentReference[];
  } {
    const bundle = JSON.parse(poll.bundleJson as string) as { entry: { resource: { resourceType: string } }[] };
    const resources = bundle.entry.map((entry) => entry.resource);
    return {
      binary: resources.find((resource) => resource.resourceType === 'Binary') as unknown as {
        data: string;
        contentType: string;
      },
      documents: resources.filter(
        (resource) => resource.resourceType === 'DocumentReference',
      ) as unknown as DocumentReference[],
    };
  }

  /** The expected Bundle's DocumentReference: the NHS adaptor's size is the length of the carried text. */
  function expectedAttachment(scenario: number): { contentType: string; size: number } {
    const bundle = JSON.parse(fixtureText(`expectedBundleScenario${scenario}.json`)) as {
      entry: {
        resource: { resourceType: string; content?: { attachment: { contentType: string; size: number } }[] };
      }[];
    };
    const reference = bundle.entry.find((entry) => entry.resource.resourceType === 'DocumentReference');
    return reference?.resource.content?.[0].attachment as { contentType: string; size: number };
  }

  async function completed(
    conversationId: string,
  ): Promise<{ binary: { data: string; contentType: string }; document: DocumentReference; bytes: Buffer }> {
    const poll = await client.poll({ conversationId }, requester());
    expect(poll).toMatchObject({ state: 'MIGRATION_COMPLETED', reason: null, documents: 1, documentsStored: 1 });
    const { binary, documents } = documentsOf(poll);
    expect(documents).toHaveLength(1);
    const [document] = documents;
    const bytes = await attachmentBytes(document.content[0].attachment.url);
    expect(document.content[0].attachment.size).toBe(bytes.length);
    expect(document.extension).toEqual([{ url: 'urn:nhs-platform:gp2gp:sha256', valueString: sha256(bytes) }]);
    return { binary, document, bytes };
  }

  it('Scenario 1 (an inline attachment in the extract): MIGRATION_COMPLETED, the HL7 extract as a Binary, the attachment byte-exact', async () => {
    const conversationId = await open();
    const uk06 = fixture(conversationId, 'Scenario_1', 'uk06.json');
    await expect(deliver(conversationId, uk06)).resolves.toMatchObject({
      outcome: 'accepted',
      action: 'RCMR_IN030000UK06',
      state: 'MIGRATION_COMPLETED',
    });
    const { binary, document, bytes } = await completed(conversationId);
    // The extract as the legacy practice sent it, not translated into FHIR.
    expect(binary.contentType).toBe('application/hl7-v3+xml');
    expect(Buffer.from(binary.data, 'base64').toString('utf8')).toBe(uk06.payload);
    const carried = (uk06['attachments'] as { payload: string }[])[0].payload;
    const expected = expectedAttachment(1);
    // Not base64 (is_base64 false): the text itself, as the NHS adaptor stores it.
    expect(bytes.equals(Buffer.from(carried, 'utf8'))).toBe(true);
    expect(bytes.length).toBe(expected.size);
    expect(document.content[0].attachment.contentType).toBe(expected.contentType);
    expect(document.content[0].attachment.title).toBe('277F29F1-FEAB-4D38-8266-FEB7A1E6227D_LICENSE.txt');
    // The reads of the record and of its attachment are audited, without the record in the audit.
    const audit = await db.query(
      `SELECT nhs_number, organisation, action FROM "${schema}".legacy_record_access WHERE conversation_id = $1
       ORDER BY id`,
      [conversationId],
    );
    expect(audit.rows).toEqual([
      { nhs_number: '9000000009', organisation: REQUESTING_ODS, action: 'legacy.record.read' },
      { nhs_number: '9000000009', organisation: REQUESTING_ODS, action: 'legacy.attachment.read' },
    ]);
  });

  it('Scenario 2 (a compressed inline attachment): the gzip bytes as sent, byte-exact, and they inflate to the document', async () => {
    const conversationId = await open();
    const uk06 = fixture(conversationId, 'Scenario_2', 'uk06.json');
    await expect(deliver(conversationId, uk06)).resolves.toMatchObject({ state: 'MIGRATION_COMPLETED' });
    const { document, bytes } = await completed(conversationId);
    const carried = (uk06['attachments'] as { payload: string }[])[0].payload;
    expect(carried.length).toBe(expectedAttachment(2).size);
    expect(sha256(bytes)).toBe(sha256(mimeBase64(carried)));
    expect(document.content[0].attachment.contentType).toBe('application/gzip');
    expect(gunzipSync(bytes).toString('utf8')).toMatch(/^There must be some kind of way outta here\n/);
  });

  it('Scenario 3 (one external attachment in one COPC): EHR_EXTRACT_RECEIVED, then MIGRATION_COMPLETED with the video byte-exact', async () => {
    const conversationId = await open();
    await expect(deliver(conversationId, fixture(conversationId, 'Scenario_3', 'uk06.json'))).resolves.toMatchObject({
      state: 'EHR_EXTRACT_RECEIVED',
    });
    await expect(client.poll({ conversationId }, requester())).resolves.toMatchObject({
      state: 'EHR_EXTRACT_RECEIVED',
      documents: 1,
      documentsStored: 0,
    });
    const copc = fixture(conversationId, 'Scenario_3', 'copc.json');
    await expect(deliver(conversationId, copc)).resolves.toMatchObject({
      action: 'COPC_IN000001UK01',
      state: 'MIGRATION_COMPLETED',
    });
    const { document, bytes } = await completed(conversationId);
    const expected = expectedAttachment(3);
    expect(carriedText(copc).length).toBe(expected.size);
    expect(sha256(bytes)).toBe(sha256(mimeBase64(carriedText(copc))));
    expect(bytes.length).toBe(245_779);
    expect(bytes.subarray(4, 12).toString('latin1')).toBe('ftypmp42');
    expect(document.content[0].attachment.contentType).toBe(expected.contentType);
  });

  it('Scenario 3 sent as an MHS sends it (multipart/related): the same transfer and the same bytes', async () => {
    const conversationId = await open();
    const send = (file: string) =>
      client.deliver({ conversationId, mime: asMime(fixture(conversationId, 'Scenario_3', file)) }, sender());
    await expect(send('uk06.json')).resolves.toMatchObject({ state: 'EHR_EXTRACT_RECEIVED' });
    await expect(send('copc.json')).resolves.toMatchObject({ state: 'MIGRATION_COMPLETED' });
    await expect(send('copc.json')).resolves.toMatchObject({ outcome: 'duplicate' });
    const { bytes } = await completed(conversationId);
    expect(sha256(bytes)).toBe(sha256(mimeBase64(carriedText(fixture(conversationId, 'Scenario_3', 'copc.json')))));
    // One form or the other, not both and not neither.
    const message = fixture(conversationId, 'Scenario_3', 'copc.json');
    for (const request of [{ conversationId }, { conversationId, message, mime: asMime(message) }]) {
      expect((await rejectionOf(client.deliver(request, sender()))).code).toBe('INVALID_VALUE');
    }
    const broken = asMime(message).replace('----=_MIME-Boundary--', '');
    expect((await rejectionOf(client.deliver({ conversationId, mime: broken }, sender()))).code).toBe(
      'GP2GP_MHS_MESSAGE_INVALID',
    );
  });

  it('Scenario 4 (a fragment index and two fragments): reassembled in order, byte-exact, fragments dropped afterwards', async () => {
    const conversationId = await open();
    const messages = ['uk06.json', 'copc_index.json', 'copc0.json', 'copc1.json'].map((file) =>
      fixture(conversationId, 'Scenario_4', file),
    );
    const states = [];
    for (const message of messages) states.push((await deliver(conversationId, message)).state);
    expect(states).toEqual([
      'EHR_EXTRACT_RECEIVED',
      'COPC_MESSAGE_RECEIVED',
      'COPC_MESSAGE_RECEIVED',
      'MIGRATION_COMPLETED',
    ]);
    const { document, bytes } = await completed(conversationId);
    const carried = carriedText(messages[2], messages[3]);
    expect(carried.length).toBe(expectedAttachment(4).size);
    expect(sha256(bytes)).toBe(sha256(mimeBase64(carried)));
    expect(bytes.length).toBe(1_271_430);
    expect(bytes.toString('utf8', 0, 16)).toBe('\n\n\nWAR AND PEACE');
    expect(document.content[0].attachment.contentType).toBe('text/plain');
    // Only the reassembled document is kept.
    expect(await objectNames(conversationId)).toEqual([`legacy/${conversationId}/document/0`]);
  });

  it('Scenario 4 with every message shuffled and sent twice: the same bytes, and each duplicate changes nothing', async () => {
    const reference = await open();
    for (const file of ['uk06.json', 'copc_index.json', 'copc0.json', 'copc1.json']) {
      await deliver(reference, fixture(reference, 'Scenario_4', file));
    }
    const expected = (await completed(reference)).bytes;

    const conversationId = await open();
    const order = [
      'copc1.json',
      'copc1.json',
      'copc0.json',
      'copc_index.json',
      'copc0.json',
      'uk06.json',
      'copc_index.json',
      'uk06.json',
    ];
    const replies = [];
    for (const file of order) replies.push(await deliver(conversationId, fixture(conversationId, 'Scenario_4', file)));
    expect(replies.map((reply) => reply.outcome)).toEqual([
      'accepted',
      'duplicate',
      'accepted',
      'accepted',
      'duplicate',
      'accepted',
      'duplicate',
      'duplicate',
    ]);
    expect(replies[5].state).toBe('MIGRATION_COMPLETED');
    expect((await completed(conversationId)).bytes.equals(expected)).toBe(true);
    const messages = await db.query(
      `SELECT count(*)::int AS n FROM "${schema}".legacy_message WHERE conversation_id = $1`,
      [conversationId],
    );
    expect(messages.rows[0].n).toBe(4);
  });

  it('NewError (a COPC that carries no attachment): fails with 31, keeps nothing, and the transfer is closed', async () => {
    const conversationId = await open();
    await deliver(conversationId, fixture(conversationId, 'NewError', 'uk06.json'));
    await expect(
      deliver(conversationId, fixture(conversationId, 'NewError', 'copc_error_missing_attachment.json')),
    ).resolves.toMatchObject({ state: 'ERROR_LRG_MSG_ATTACHMENTS_NOT_RECEIVED' });
    const poll = await client.poll({ conversationId }, requester());
    expect(poll).toMatchObject({
      state: 'ERROR_LRG_MSG_ATTACHMENTS_NOT_RECEIVED',
      reason: { code: '31', display: expect.stringContaining('attachments via Large Messages were not received') },
    });
    expect(poll.bundleJson).toBeUndefined();
    expect(await objectNames(conversationId)).toEqual([]);
    // The failure goes out once, through the outbox: the record did not arrive whole, so the sender prints it.
    expect(await eventsAbout(conversationId)).toEqual([
      {
        subject: GP2GP_EVENTS.transferFailed,
        data: {
          conversationId,
          requestingOds: REQUESTING_ODS,
          sendingOds: SENDING_ODS,
          reasonCode: '31',
          printRecord: true,
          occurredAt: expect.any(String),
        },
      },
    ]);
    // A late message for the closed transfer is refused; a repeat of one it had is a duplicate.
    const late = withId(fixture(conversationId, 'Scenario_3', 'copc.json'), 'C0FFEE00-0000-4000-8000-000000000001');
    expect((await rejectionOf(deliver(conversationId, late))).code).toBe('GP2GP_TRANSFER_CLOSED');
    await expect(deliver(conversationId, fixture(conversationId, 'NewError', 'uk06.json'))).resolves.toMatchObject({
      outcome: 'duplicate',
    });
  });

  function withId(message: MhsJson, id: string): MhsJson {
    return { ...message, ebXML: message.ebXML.replace(/<eb:MessageId>[^<]*</, `<eb:MessageId>${id}<`) };
  }

  it("the sending practice's negative acknowledgement (MCCI_IN010000UK13 AE, reason 99) fails the transfer with its code", async () => {
    const conversationId = await open();
    const payload = readFileSync(
      referencePath('eps-gp2gp', 'gp2gp', 'sending-adaptor', 'acknowledgements', 'MCCI_IN010000UK13_body_AE.xml'),
      'utf8',
    );
    const ebXML = withId(fixture(conversationId, 'Scenario_3', 'copc.json'), randomUUID().toUpperCase()).ebXML.replace(
      'COPC_IN000001UK01',
      'MCCI_IN010000UK13',
    );
    await expect(deliver(conversationId, { ebXML, payload })).resolves.toMatchObject({
      action: 'MCCI_IN010000UK13',
      state: 'EHR_EXTRACT_REQUEST_NEGATIVE_ACK',
    });
    await expect(client.poll({ conversationId }, requester())).resolves.toMatchObject({
      reason: { code: '99', display: 'Unexpected condition.' },
    });
    expect((await eventsAbout(conversationId)).map((event) => event.data['printRecord'])).toEqual([false]);
  });

  it('a corrupt fragment (base64 cut short) fails the transfer with 29 (reassembly failure)', async () => {
    const conversationId = await open();
    const [first, second] = [randomUUID().toUpperCase(), randomUUID().toUpperCase()];
    const index = randomUUID().toUpperCase();
    await deliver(conversationId, extractMessage(conversationId, index));
    await deliver(conversationId, indexMessage(conversationId, index, [first, second]));
    await deliver(conversationId, fragmentMessage(conversationId, first, randomBytes(3000)));
    const broken = fragmentMessage(conversationId, second, randomBytes(3000));
    const [attachment] = broken['attachments'] as { payload: string }[];
    attachment.payload = attachment.payload.slice(0, -3);
    await expect(deliver(conversationId, broken)).resolves.toMatchObject({ state: 'ERROR_LRG_MSG_REASSEMBLY_FAILURE' });
    await expect(client.poll({ conversationId }, requester())).resolves.toMatchObject({ reason: { code: '29' } });
    expect((await eventsAbout(conversationId)).map((event) => event.data['reasonCode'])).toEqual(['29']);
    expect(await objectNames(conversationId)).toEqual([]);
  });

  it('dozens of fragments at once, with duplicates, served by two replicas: reassembled once, byte-exact', async () => {
    const conversationId = await open();
    const index = randomUUID().toUpperCase();
    const fragments = Array.from({ length: 40 }, () => ({
      id: randomUUID().toUpperCase(),
      bytes: randomBytes(24 * 1024),
    }));
    const messages = [
      extractMessage(conversationId, index),
      indexMessage(
        conversationId,
        index,
        fragments.map((fragment) => fragment.id),
      ),
      ...fragments.map((fragment) => fragmentMessage(conversationId, fragment.id, fragment.bytes)),
    ];
    // Every message once, and twenty of them again, all at the same time, in a shuffled order.
    const all = [...messages, ...messages.slice(0, 20)].sort(() => Math.random() - 0.5);
    const replies = outcomes(await allAtOnce(all.length, 25_000, (at) => deliver(conversationId, all[at])));
    const counted = tally(replies, (reply) => (typeof reply === 'string' ? reply : reply.outcome));
    expect(counted).toEqual({ accepted: 42, duplicate: 20 });
    const done = replies.filter(
      (reply) => typeof reply !== 'string' && reply.outcome === 'accepted' && reply.state === 'MIGRATION_COMPLETED',
    );
    expect(done).toHaveLength(1);
    const { bytes } = await completed(conversationId);
    expect(bytes.equals(Buffer.concat(fragments.map((fragment) => fragment.bytes)))).toBe(true);
    expect(await objectNames(conversationId)).toEqual([`legacy/${conversationId}/document/0`]);
  });

  it('a replica stopping mid-transfer: what it had not answered is sent again, nothing is lost or kept twice', async () => {
    const conversationId = await open();
    const index = randomUUID().toUpperCase();
    const fragments = Array.from({ length: 12 }, () => ({
      id: randomUUID().toUpperCase(),
      bytes: randomBytes(16 * 1024),
    }));
    await deliver(conversationId, extractMessage(conversationId, index));
    await deliver(
      conversationId,
      indexMessage(
        conversationId,
        index,
        fragments.map((fragment) => fragment.id),
      ),
    );
    // A sender that gives up on an answer after 3 s: a request the stopping replica took may never be answered.
    const send = (fragment: { id: string; bytes: Buffer }) =>
      client.deliver(
        { conversationId, message: fragmentMessage(conversationId, fragment.id, fragment.bytes) },
        sender(),
        3000,
      );
    // Half the fragments while one replica stops (its subscriptions drain; a request it never took may fail).
    const [first] = under.replicas;
    const [settled] = await Promise.all([
      allAtOnce(6, 25_000, (at) => send(fragments[at])),
      new Promise((resolve) => setTimeout(resolve, 5)).then(() => first.close()),
    ]);
    await under.addReplica();
    // The sender sends again whatever was not answered, and then the rest (a repeat of an answered one too).
    const unanswered = settled.flatMap((result, at) => (result.status === 'rejected' ? [fragments[at]] : []));
    for (const fragment of [...unanswered, fragments[0], ...fragments.slice(6)]) await send(fragment);
    await expect(client.poll({ conversationId }, requester())).resolves.toMatchObject({ state: 'MIGRATION_COMPLETED' });
    expect(
      (await completed(conversationId)).bytes.equals(Buffer.concat(fragments.map((fragment) => fragment.bytes))),
    ).toBe(true);
    const messages = await db.query(
      `SELECT count(*)::int AS n FROM "${schema}".legacy_message WHERE conversation_id = $1`,
      [conversationId],
    );
    expect(messages.rows[0].n).toBe(14);
  });

  it('fragments that arrive before the extract and the index wait for them', async () => {
    const conversationId = await open();
    const index = randomUUID().toUpperCase();
    const fragments = [randomBytes(5000), randomBytes(7000)].map((bytes) => ({
      id: randomUUID().toUpperCase(),
      bytes,
    }));
    for (const fragment of [...fragments].reverse()) {
      await expect(
        deliver(conversationId, fragmentMessage(conversationId, fragment.id, fragment.bytes)),
      ).resolves.toMatchObject({
        state: 'EHR_EXTRACT_REQUEST_ACCEPTED',
      });
    }
    await deliver(
      conversationId,
      indexMessage(
        conversationId,
        index,
        fragments.map((fragment) => fragment.id),
      ),
    );
    await expect(deliver(conversationId, extractMessage(conversationId, index))).resolves.toMatchObject({
      state: 'MIGRATION_COMPLETED',
    });
    expect(
      (await completed(conversationId)).bytes.equals(Buffer.concat(fragments.map((fragment) => fragment.bytes))),
    ).toBe(true);
  });

  describe('the caller may only send for its own conversations (attacker)', () => {
    it('refuses a fragment for an unknown conversation, and from any practice but the sender, changing nothing', async () => {
      const unknown = randomUUID();
      expect((await rejectionOf(deliver(unknown, fixture(unknown, 'Scenario_3', 'copc.json')))).code).toBe(
        'GP2GP_TRANSFER_NOT_FOUND',
      );
      const conversationId = await open();
      await deliver(conversationId, fixture(conversationId, 'Scenario_3', 'uk06.json'));
      const copc = fixture(conversationId, 'Scenario_3', 'copc.json');
      for (const context of [as('A12345'), requester(), as('A12345', ['practice-admin'], 'legacy-system-b83002')]) {
        expect((await rejectionOf(deliver(conversationId, copc, context))).code).toBe('GP2GP_TRANSFER_NOT_FOUND');
      }
      // A caller with no organisation, and a role that may not send.
      expect(
        (
          await rejectionOf(
            deliver(conversationId, copc, { requestId: randomUUID(), caller: { id: 'x', roles: ['clinician'] } }),
          )
        ).code,
      ).toBe('GP2GP_NO_ORGANISATION');
      expect((await rejectionOf(deliver(conversationId, copc, as(SENDING_ODS, ['ops'])))).code).toBe('ACCESS_DENIED');
      const rows = await db.query(
        `SELECT count(*)::int AS n FROM "${schema}".legacy_message WHERE conversation_id = $1`,
        [conversationId],
      );
      expect(rows.rows[0].n).toBe(1);
      await expect(client.poll({ conversationId }, requester())).resolves.toMatchObject({
        state: 'EHR_EXTRACT_RECEIVED',
      });
      // The sender cannot read the record back, nor can a third practice; the requester can.
      for (const context of [sender(), as('A12345')]) {
        expect((await rejectionOf(client.poll({ conversationId }, context))).code).toBe('GP2GP_TRANSFER_NOT_FOUND');
      }
      await expect(deliver(conversationId, copc)).resolves.toMatchObject({ state: 'MIGRATION_COMPLETED' });
    });

    it('gives an attachment only to the requesting practice, once the transfer is complete', async () => {
      const conversationId = await open();
      await deliver(conversationId, fixture(conversationId, 'Scenario_3', 'uk06.json'));
      const early = await rejectionOf(client.readAttachment({ conversationId, position: 0 }, requester()));
      expect(early.code).toBe('GP2GP_TRANSFER_NOT_FOUND');
      await deliver(conversationId, fixture(conversationId, 'Scenario_3', 'copc.json'));
      const url = `urn:nhs-platform:gp2gp:legacy-attachment:${conversationId}/0`;
      for (const context of [sender(), as('A12345'), as(SENDING_ODS, ['clinician'], 'someone')]) {
        expect((await rejectionOf(attachmentBytes(url, context))).code).toBe('GP2GP_TRANSFER_NOT_FOUND');
      }
      expect((await rejectionOf(client.readAttachment({ conversationId, position: 1 }, requester()))).code).toBe(
        'GP2GP_TRANSFER_NOT_FOUND',
      );
      expect(
        (await rejectionOf(client.readAttachment({ conversationId, position: 0, cursor: '1.99999999' }, requester())))
          .code,
      ).toBe('INVALID_VALUE');
      // A cursor cannot name an object: one that tries is not a cursor.
      const forged = await rejectionOf(
        client.readAttachment({ conversationId, position: 0, cursor: '1.0.SOMEOTHEROBJECTNUID0' }, requester()),
      );
      expect(forged.code).toBe('INVALID_VALUE');
      expect((await attachmentBytes(url)).length).toBe(245_779);
      const audit = await db.query(
        `SELECT organisation, action FROM "${schema}".legacy_record_access WHERE conversation_id = $1`,
        [conversationId],
      );
      expect(audit.rows).toEqual([{ organisation: REQUESTING_ODS, action: 'legacy.attachment.read' }]);
    });

    it('refuses a message whose ebXML names another conversation than the one it is sent for', async () => {
      const mine = await open();
      const other = await open();
      const copc = fixture(other, 'Scenario_3', 'copc.json');
      expect((await rejectionOf(deliver(mine, copc))).code).toBe('GP2GP_MHS_MESSAGE_UNEXPECTED');
    });

    it('refuses an extract authored by another organisation than the sending practice', async () => {
      const conversationId = await open();
      const uk06 = fixture(conversationId, 'Scenario_3', 'uk06.json');
      const forged = { ...uk06, payload: uk06.payload.replaceAll('extension="B83002"', 'extension="Y99999"') };
      expect((await rejectionOf(deliver(conversationId, forged))).code).toBe('GP2GP_MHS_MESSAGE_UNEXPECTED');
      await expect(client.poll({ conversationId }, requester())).resolves.toMatchObject({
        state: 'EHR_EXTRACT_REQUEST_ACCEPTED',
      });
    });
  });

  describe('opening', () => {
    it('opens once for 30 simultaneous requests, and refuses the conversation ID to another practice or sender', async () => {
      const conversationId = randomUUID();
      const replies = outcomes(
        await allAtOnce(30, 10_000, () => client.open({ conversationId, sendingOds: SENDING_ODS }, requester())),
      );
      expect(tally(replies, (reply) => (typeof reply === 'string' ? reply : reply.state))).toEqual({
        EHR_EXTRACT_REQUEST_ACCEPTED: 30,
      });
      expect((await rejectionOf(client.open({ conversationId, sendingOds: SENDING_ODS }, as('A12345')))).code).toBe(
        'GP2GP_CONVERSATION_CONFLICT',
      );
      expect((await rejectionOf(client.open({ conversationId, sendingOds: 'A12345' }, requester()))).code).toBe(
        'GP2GP_CONVERSATION_CONFLICT',
      );
      expect(
        (await rejectionOf(client.open({ conversationId: randomUUID(), sendingOds: SENDING_ODS }, sender()))).code,
      ).toBe('INVALID_VALUE');
      const rows = await db.query(`SELECT requesting_ods FROM "${schema}".legacy_transfer WHERE conversation_id = $1`, [
        conversationId,
      ]);
      expect(rows.rows).toEqual([{ requesting_ods: REQUESTING_ODS }]);
    });
  });

  describe('malformed messages are refused with GP2GP_MHS_MESSAGE_INVALID and change nothing', () => {
    const cases: [string, (message: MhsJson) => unknown][] = [
      [
        'ebXML that is not well formed',
        (message) => ({ ...message, ebXML: message.ebXML.replace('</eb:Action>', '') }),
      ],
      [
        'a payload with a document type declaration',
        (message) => ({ ...message, payload: `<!DOCTYPE x [<!ENTITY a "b">]>${message.payload}` }),
      ],
      [
        'no MessageId',
        (message) => ({ ...message, ebXML: message.ebXML.replace(/<eb:MessageId>[^<]*<\/eb:MessageId>/, '') }),
      ],
      [
        'an action gp2gp does not take',
        (message) => ({ ...message, ebXML: message.ebXML.replace('COPC_IN000001UK01', 'PRPA_IN000001UK01') }),
      ],
      [
        'a payload that is not the action',
        (message) => ({ ...message, payload: '<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"><id/></MCCI_IN010000UK13>' }),
      ],
      ['attachments that are not a list', (message) => ({ ...message, attachments: 'abc' })],
      ['a field an MHS message does not have', (message) => ({ ...message, extra: 1 })],
      ['no payload', (message) => ({ ebXML: message.ebXML })],
      [
        'two attachments in one COPC',
        (message) => ({
          ...message,
          attachments: [...(message['attachments'] as unknown[]), ...(message['attachments'] as unknown[])],
        }),
      ],
    ];

    it.each(cases)('%s', async (_name, mangle) => {
      const conversationId = await open();
      await deliver(conversationId, fixture(conversationId, 'Scenario_3', 'uk06.json'));
      const message = mangle(fixture(conversationId, 'Scenario_3', 'copc.json'));
      const error = await rejectionOf(
        client.deliver({ conversationId, message: message as Record<string, unknown> }, sender()),
      );
      expect(error.code).toBe('GP2GP_MHS_MESSAGE_INVALID');
      const rows = await db.query(
        `SELECT count(*)::int AS n FROM "${schema}".legacy_message WHERE conversation_id = $1`,
        [conversationId],
      );
      expect(rows.rows[0].n).toBe(1);
      // The service is still there and the transfer still takes the right message.
      await expect(deliver(conversationId, fixture(conversationId, 'Scenario_3', 'copc.json'))).resolves.toMatchObject({
        state: 'MIGRATION_COMPLETED',
      });
    });
  });
});
