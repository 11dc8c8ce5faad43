import 'reflect-metadata';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { SignJWT } from 'jose';
import { GP2GP_FRAGMENT_BUCKET, type LegacyTransferReply } from '@platform/contracts-gp2gp';
import type { CallContext } from '@platform/shared-nats';
import { allAtOnce, outcomes, rejectionOf, startTestJwks, tally, type TestJwks } from '@platform/shared-testing';
import { startBuiltGateway, TEST_GATEWAY_ISSUER, type BuiltGateway } from '@platform/testing-services';
import {
  asMime,
  carriedText,
  extractMessage,
  fixture,
  fragmentMessage,
  indexMessage,
  REQUESTING_ODS,
  SENDING_ODS,
  withMessageId,
  type MhsJson,
} from './legacy-fixtures.test-harness';
import { startLegacyUnderTest, type LegacyUnderTest } from './legacy.test-harness';

const FIVE_MB = 5 * 1000 * 1000;
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
/** Base64 as MIME reads it (the fixtures' line separators are quotes). */
const mimeBase64 = (text: string): Buffer => Buffer.from(text.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');

/** The HTTP form of an MHS message: its MIME headers' Content-Type as the request's, the rest as the body. */
function httpOf(message: MhsJson): { contentType: string; body: Buffer } {
  const mime = asMime(message);
  const blank = mime.indexOf('\r\n\r\n');
  return {
    contentType: mime.slice(0, blank).replace(/^Content-Type:\s*/i, ''),
    body: Buffer.from(mime.slice(blank + 4), 'utf8'),
  };
}

/**
 * Legacy (HL7 V3) practices through the gateway: the practice's MHS posts its ebXML messages to
 * `POST /gp2gp/mhs/inbound` with the practice system's access token, as the NHS MHS posts inbound messages.
 * The built gateway streams each body to gp2gp's legacy path (two replicas) in pieces under NATS's 1 MB
 * limit, so that COPCs carrying 5 MB fragments get through; every large-message scenario of the NHS fixtures
 * completes byte-exact, or fails with its reason.
 */
describe('gp2gp legacy practices: MHS inbound through the gateway', () => {
  let under: LegacyUnderTest;
  let jwks: TestJwks;
  let gateway: BuiltGateway;
  const tokens: Record<string, string> = {};

  const token = (subject: string, organisations: string[], clientId: string, roles = ['practice-admin']) =>
    new SignJWT({
      typ: 'Bearer',
      azp: clientId,
      client_id: clientId,
      preferred_username: subject,
      realm_access: { roles },
      nhsd_organisations: organisations,
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'k' })
      .setIssuer(TEST_GATEWAY_ISSUER)
      .setAudience('nhs-platform')
      .setSubject(subject)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(jwks.privateKey);

  beforeAll(async () => {
    under = await startLegacyUnderTest();
    jwks = await startTestJwks();
    gateway = await startBuiltGateway({ natsUrl: under.natsUrl, jwksUrl: jwks.url });
    // The legacy practice's system (application access for its organisation), and another practice's.
    tokens['sender'] = await token('service-account-mhs-b83002', [SENDING_ODS], 'mhs-b83002');
    tokens['other'] = await token('service-account-mhs-a12345', ['A12345'], 'mhs-a12345');
    tokens['requester'] = await token('service-account-gp-c81007', [REQUESTING_ODS], 'gp-c81007');
    tokens['ops'] = await token('ops-1', [], 'platform-cli', ['ops']);
  });
  afterAll(async () => {
    await gateway?.stop();
    await jwks?.stop();
    await under?.stop();
  });

  const requester = (): CallContext => ({
    requestId: randomUUID(),
    caller: { id: 'gp-c81007', roles: ['practice-admin'], organisation: REQUESTING_ODS },
  });

  async function open(): Promise<string> {
    const conversationId = randomUUID();
    await under.client.open({ conversationId, sendingOds: SENDING_ODS }, requester());
    return conversationId;
  }

  function post(message: MhsJson | { contentType: string; body: Buffer }, who: string | null = 'sender') {
    const { contentType, body } = 'ebXML' in message ? httpOf(message) : message;
    return fetch(`${gateway.base}/gp2gp/mhs/inbound`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...(who ? { authorization: `Bearer ${tokens[who]}` } : {}) },
      body,
    });
  }

  async function accepted(message: MhsJson, state: string): Promise<void> {
    const response = await post(message);
    const text = await response.text();
    expect({ status: response.status, text }).toMatchObject({ status: 202 });
    expect(JSON.parse(text)).toMatchObject({ outcome: 'accepted', state });
  }

  /** The pieces of posted messages held in the object store now. */
  async function uploadPieces(): Promise<string[]> {
    const store = await under.connection.jetstream().views.os(GP2GP_FRAGMENT_BUCKET);
    return (await store.list())
      .filter((entry) => !entry.deleted && entry.name.startsWith('legacy/upload/'))
      .map((entry) => entry.name);
  }

  /** The record as the requester receives it: the HL7 extract as a Binary and the one attachment's bytes. */
  async function record(conversationId: string): Promise<{ binary: string; bytes: Buffer }> {
    const poll: LegacyTransferReply = await under.client.poll({ conversationId }, requester());
    expect(poll).toMatchObject({ state: 'MIGRATION_COMPLETED', reason: null, documents: 1, documentsStored: 1 });
    const resources = (
      JSON.parse(poll.bundleJson as string) as { entry: { resource: Record<string, unknown> }[] }
    ).entry.map((entry) => entry.resource);
    const binary = resources.find((resource) => resource['resourceType'] === 'Binary') as {
      contentType: string;
      data: string;
    };
    expect(binary.contentType).toBe('application/hl7-v3+xml');
    const document = resources.find((resource) => resource['resourceType'] === 'DocumentReference') as {
      content: { attachment: { url: string } }[];
      extension: { valueString: string }[];
    };
    const position = Number(/\/(\d+)$/.exec(document.content[0].attachment.url)?.[1]);
    const chunks: Buffer[] = [];
    let cursor: string | undefined;
    do {
      const piece = await under.client.readAttachment(
        { conversationId, position, ...(cursor ? { cursor } : {}) },
        requester(),
      );
      chunks.push(Buffer.from(piece.data, 'base64'));
      cursor = piece.cursor;
    } while (cursor);
    const bytes = Buffer.concat(chunks);
    expect(document.extension[0].valueString).toBe(sha256(bytes));
    return { binary: Buffer.from(binary.data, 'base64').toString('utf8'), bytes };
  }

  it('Scenarios 1 and 2 (inline attachments in the extract): MIGRATION_COMPLETED, the extract as a Binary, byte-exact', async () => {
    for (const scenario of ['Scenario_1', 'Scenario_2']) {
      const conversationId = await open();
      const uk06 = fixture(conversationId, scenario, 'uk06.json');
      await accepted(uk06, 'MIGRATION_COMPLETED');
      const { binary, bytes } = await record(conversationId);
      expect(binary).toBe(uk06.payload);
      const [attachment] = uk06['attachments'] as { payload: string; is_base64: string }[];
      const expected =
        attachment.is_base64 === 'true' ? mimeBase64(attachment.payload) : Buffer.from(attachment.payload, 'utf8');
      expect(bytes.equals(expected)).toBe(true);
    }
  });

  it('Scenario 3 (an external attachment in a COPC): completed byte-exact; the same COPC again is a duplicate', async () => {
    const conversationId = await open();
    await accepted(fixture(conversationId, 'Scenario_3', 'uk06.json'), 'EHR_EXTRACT_RECEIVED');
    const copc = fixture(conversationId, 'Scenario_3', 'copc.json');
    await accepted(copc, 'MIGRATION_COMPLETED');
    const again = await post(copc);
    expect(again.status).toBe(202);
    expect(await again.json()).toMatchObject({ outcome: 'duplicate', state: 'MIGRATION_COMPLETED' });
    expect(sha256((await record(conversationId)).bytes)).toBe(sha256(mimeBase64(carriedText(copc))));
  });

  it('Scenario 4 (a fragment index and two fragments), as in the fixtures: reassembled in order, byte-exact', async () => {
    const conversationId = await open();
    const files = ['uk06.json', 'copc_index.json', 'copc0.json', 'copc1.json'];
    const messages = files.map((file) => fixture(conversationId, 'Scenario_4', file));
    const states = ['EHR_EXTRACT_RECEIVED', 'COPC_MESSAGE_RECEIVED', 'COPC_MESSAGE_RECEIVED', 'MIGRATION_COMPLETED'];
    for (const [at, message] of messages.entries()) await accepted(message, states[at]);
    const { bytes } = await record(conversationId);
    expect(bytes.equals(mimeBase64(carriedText(messages[2], messages[3])))).toBe(true);
    expect(bytes.length).toBe(1_271_430);
  });

  it('Scenario 4 with 5 MB fragments (the NHS fragment size): each COPC streamed through in pieces, byte-exact', async () => {
    const conversationId = await open();
    const index = randomUUID().toUpperCase();
    const fragments = [randomBytes(FIVE_MB), randomBytes(FIVE_MB), randomBytes(1234)].map((bytes) => ({
      id: randomUUID().toUpperCase(),
      bytes,
    }));
    await accepted(extractMessage(conversationId, index), 'EHR_EXTRACT_RECEIVED');
    await accepted(
      indexMessage(
        conversationId,
        index,
        fragments.map((fragment) => fragment.id),
      ),
      'COPC_MESSAGE_RECEIVED',
    );
    for (const [at, fragment] of fragments.entries()) {
      const message = fragmentMessage(conversationId, fragment.id, fragment.bytes);
      if (at === 0) expect(httpOf(message).body.length).toBeGreaterThan(6_500_000);
      await accepted(message, at === fragments.length - 1 ? 'MIGRATION_COMPLETED' : 'COPC_MESSAGE_RECEIVED');
    }
    const { bytes } = await record(conversationId);
    expect(bytes.length).toBe(2 * FIVE_MB + 1234);
    expect(bytes.equals(Buffer.concat(fragments.map((fragment) => fragment.bytes)))).toBe(true);
    // The posted messages' pieces are dropped once taken; only the reassembled document is kept.
    const store = await under.connection.jetstream().views.os(GP2GP_FRAGMENT_BUCKET);
    const names = (await store.list()).filter((entry) => !entry.deleted).map((entry) => entry.name);
    expect(names.filter((name) => name.startsWith('legacy/upload/'))).toEqual([]);
    expect(names.filter((name) => name.startsWith(`legacy/${conversationId}/`))).toEqual([
      `legacy/${conversationId}/document/0`,
    ]);
  });

  it('NewError (a COPC that carries no attachment) fails with 31; a later message is refused 409', async () => {
    const conversationId = await open();
    await accepted(fixture(conversationId, 'NewError', 'uk06.json'), 'EHR_EXTRACT_RECEIVED');
    const copc = fixture(conversationId, 'NewError', 'copc_error_missing_attachment.json');
    // As the fixture is, its manifest names an attachment part the message does not carry: malformed on the
    // wire (400). Sent as an MHS sends a COPC without its attachment (the manifest naming none), it fails 31.
    const named = await post(copc);
    expect(named.status).toBe(400);
    expect(await named.json()).toMatchObject({ code: 'GP2GP_MHS_MESSAGE_INVALID' });
    const bare = {
      ...copc,
      ebXML: copc.ebXML.replace(/<eb:Reference xlink:href="cid:27c75acf[\s\S]*?<\/eb:Reference>/, ''),
    };
    expect(bare.ebXML).not.toBe(copc.ebXML);
    await accepted(bare, 'ERROR_LRG_MSG_ATTACHMENTS_NOT_RECEIVED');
    await expect(under.client.poll({ conversationId }, requester())).resolves.toMatchObject({
      state: 'ERROR_LRG_MSG_ATTACHMENTS_NOT_RECEIVED',
      reason: { code: '31' },
    });
    const late = withMessageId(fixture(conversationId, 'Scenario_3', 'copc.json'), randomUUID().toUpperCase());
    const refused = await post(late);
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ code: 'GP2GP_TRANSFER_CLOSED' });
  });

  it('dozens of messages posted at once, with duplicates: each taken once, completed once, byte-exact', async () => {
    const conversationId = await open();
    const index = randomUUID().toUpperCase();
    const fragments = Array.from({ length: 30 }, () => ({
      id: randomUUID().toUpperCase(),
      bytes: randomBytes(200 * 1024 + 17),
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
    const all = [...messages, ...messages.slice(0, 10)].sort(() => Math.random() - 0.5);
    const replies = outcomes(
      await allAtOnce(all.length, 25_000, async (at) => {
        const response = await post(all[at]);
        return { status: response.status, ...((await response.json()) as { outcome: string; state: string }) };
      }),
    );
    expect(tally(replies, (reply) => (typeof reply === 'string' ? reply : `${reply.status} ${reply.outcome}`))).toEqual(
      { '202 accepted': 32, '202 duplicate': 10 },
    );
    const done = replies.filter(
      (reply) => typeof reply !== 'string' && reply.outcome === 'accepted' && reply.state === 'MIGRATION_COMPLETED',
    );
    expect(done).toHaveLength(1);
    const { bytes } = await record(conversationId);
    expect(bytes.equals(Buffer.concat(fragments.map((fragment) => fragment.bytes)))).toBe(true);
  });

  describe('callers who should not get in (attacker)', () => {
    it("refuses posts without a token (401), from another practice into someone's conversation (404), and from the requester or an operator", async () => {
      const conversationId = await open();
      const uk06 = fixture(conversationId, 'Scenario_3', 'uk06.json');
      expect((await post(uk06, null)).status).toBe(401);
      const foreign = await post(uk06, 'other');
      expect(foreign.status).toBe(404);
      expect(await foreign.json()).toMatchObject({ code: 'GP2GP_TRANSFER_NOT_FOUND' });
      // The requesting practice is not the sender; ops may not send at all.
      expect((await post(uk06, 'requester')).status).toBe(404);
      expect((await post(uk06, 'ops')).status).toBe(403);
      await expect(under.client.poll({ conversationId }, requester())).resolves.toMatchObject({
        state: 'EHR_EXTRACT_REQUEST_ACCEPTED',
      });
      // The sender still can: nothing the others sent counted.
      await accepted(uk06, 'EHR_EXTRACT_RECEIVED');
    });
  });

  it("keeps a posted message's pieces to the organisation that sent them: another's commit of the same upload reads none", async () => {
    const conversationId = await open();
    await accepted(fixture(conversationId, 'Scenario_3', 'uk06.json'), 'EHR_EXTRACT_RECEIVED');
    const { contentType, body } = httpOf(fixture(conversationId, 'Scenario_3', 'copc.json'));
    const as = (organisation: string): CallContext => ({
      requestId: randomUUID(),
      caller: { id: `mhs-${organisation}`, roles: ['practice-admin'], organisation },
    });
    const uploadId = randomUUID();
    const pieces = [];
    for (let at = 0; at < body.length; at += 512 * 1024) pieces.push(body.subarray(at, at + 512 * 1024));
    for (const [index, piece] of pieces.entries()) {
      await under.client.deliverPiece({ uploadId, index, data: piece.toString('base64') }, as(SENDING_ODS));
    }
    const commit = { uploadId, pieces: pieces.length, size: body.length, contentType };
    for (const organisation of ['A12345', REQUESTING_ODS]) {
      expect((await rejectionOf(under.client.commit(commit, as(organisation)))).code).toBe('GP2GP_MHS_MESSAGE_INVALID');
    }
    await expect(under.client.poll({ conversationId }, requester())).resolves.toMatchObject({
      state: 'EHR_EXTRACT_RECEIVED',
    });
    await expect(under.client.commit(commit, as(SENDING_ODS))).resolves.toMatchObject({
      outcome: 'accepted',
      state: 'MIGRATION_COMPLETED',
    });
    // Taken once: the pieces are gone, so the same commit again reads none.
    expect((await rejectionOf(under.client.commit(commit, as(SENDING_ODS)))).code).toBe('GP2GP_MHS_MESSAGE_INVALID');
  });

  describe('bad input', () => {
    it('answers a malformed ebXML 400, an unknown conversation 404, another media type 415', async () => {
      const conversationId = await open();
      const { contentType, body } = httpOf(fixture(conversationId, 'Scenario_3', 'uk06.json'));
      const broken = await post({
        contentType,
        body: Buffer.from(body.toString('utf8').replace('</eb:MessageHeader>', '')),
      });
      expect(broken.status).toBe(400);
      expect(await broken.json()).toMatchObject({ code: 'GP2GP_MHS_MESSAGE_INVALID' });
      const unclosed = await post({
        contentType,
        body: Buffer.from(body.toString('utf8').replace(/--[^\r\n]*--\r\n$/, '')),
      });
      expect(unclosed.status).toBe(400);
      const unknown = randomUUID();
      const stray = await post(fixture(unknown, 'Scenario_3', 'copc.json'));
      expect(stray.status).toBe(404);
      expect(await stray.json()).toMatchObject({ code: 'GP2GP_TRANSFER_NOT_FOUND' });
      expect((await post({ contentType: 'application/json', body: Buffer.from('{}') })).status).toBe(415);
      expect((await post({ contentType, body: Buffer.alloc(0) })).status).toBe(400);
      await expect(under.client.poll({ conversationId }, requester())).resolves.toMatchObject({
        state: 'EHR_EXTRACT_REQUEST_ACCEPTED',
      });
    });

    it('answers a body over 8 MiB 413, declared or streamed (chunked)', async () => {
      const conversationId = await open();
      const { contentType } = httpOf(fixture(conversationId, 'Scenario_3', 'uk06.json'));
      const big = Buffer.alloc(8 * 1024 * 1024 + 1, 0x41);
      expect((await post({ contentType, body: big })).status).toBe(413);
      const status = await new Promise<number>((resolve, reject) => {
        const url = new URL(`${gateway.base}/gp2gp/mhs/inbound`);
        const request = httpRequest(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'POST',
            headers: { 'content-type': contentType, authorization: `Bearer ${tokens['sender']}` },
          },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        );
        request.on('error', reject);
        const piece = Buffer.alloc(256 * 1024, 0x41);
        let sent = 0;
        const write = (): void => {
          while (sent < 40) {
            sent += 1;
            if (!request.write(piece)) {
              request.once('drain', write);
              return;
            }
          }
          request.end();
        };
        write();
      });
      expect(status).toBe(413);
      // What had been passed on before the limit was passed is dropped.
      expect(await uploadPieces()).toEqual([]);
    });

    it('drops what was passed on of a post whose client goes away mid-body', async () => {
      const conversationId = await open();
      const { contentType } = httpOf(fixture(conversationId, 'Scenario_3', 'uk06.json'));
      const url = new URL(`${gateway.base}/gp2gp/mhs/inbound`);
      const request = httpRequest({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': contentType, authorization: `Bearer ${tokens['sender']}` },
      });
      request.on('error', () => undefined);
      request.write(Buffer.alloc(1536 * 1024, 0x41));
      let seen: string[] = [];
      for (let attempt = 0; attempt < 100 && seen.length === 0; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        seen = await uploadPieces();
      }
      // The first pieces reached gp2gp before the client went away.
      expect(seen.length).toBeGreaterThan(0);
      request.destroy();
      let left = seen;
      for (let attempt = 0; attempt < 100 && left.length > 0; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        left = await uploadPieces();
      }
      expect(left).toEqual([]);
    });
  });
});
