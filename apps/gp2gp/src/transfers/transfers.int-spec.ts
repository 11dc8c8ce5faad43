import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { JSONCodec } from 'nats';
import { GP2GP_EVENT_STREAM, GP2GP_EVENTS, GP2GP_FRAGMENT_BUCKET } from '@platform/contracts-gp2gp';
import { allAtOnce, outcomes, rejectionOf } from '@platform/shared-testing';
import {
  downloadThroughLink,
  operator,
  PATIENT,
  practice,
  REQUESTER,
  SENDER,
  startGp2gpUnderTest,
  TEST_LINK_SECRET,
  untilSettled,
  type Gp2gpUnderTest,
} from '../gp2gp.test-harness';
import { AttachmentLinks } from './links';

const MiB = 1024 * 1024;
const DOCUMENTS = [
  { size: MiB + 12_345, contentType: 'application/pdf', title: 'Discharge letter' },
  { size: 200_000, contentType: 'image/jpeg', title: 'Photograph' },
  { size: 600 * 1024, contentType: 'image/tiff', title: 'Scanned referral' },
];

describe('gp2gp record transfer (real PostgreSQL, JetStream, pds, n3-registry and the GP Connect simulator)', () => {
  let under: Gp2gpUnderTest;

  beforeAll(async () => {
    under = await startGp2gpUnderTest({ schemaPrefix: 'gp2gp_it' });
  });
  afterAll(async () => {
    await under?.stop();
  });

  const request = (conversationId: string = randomUUID(), sendingOds = SENDER) => ({
    conversationId,
    nhsNumber: PATIENT,
    sendingOds,
  });
  const rows = async (sql: string, values: unknown[] = []): Promise<Record<string, unknown>[]> =>
    (await under.db.query(sql.replaceAll('$schema', `"${under.schema}"`), values)).rows as Record<string, unknown>[];

  /**
   * The events of a subject in the stream, once one of them is the conversation's (the outbox publishes after the
   * write answers, and the stream holds other conversations' events of the same subject): up to 5 s.
   */
  async function events(subject: string, conversationId: string): Promise<Record<string, unknown>[]> {
    const manager = await under.connection.jetstreamManager();
    const codec = JSONCodec<Record<string, unknown>>();
    const found: Record<string, unknown>[] = [];
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      found.length = 0;
      const info = await manager.streams.info(GP2GP_EVENT_STREAM);
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
        const message = await manager.streams.getMessage(GP2GP_EVENT_STREAM, { seq }).catch(() => undefined);
        if (message?.subject === subject) found.push(codec.decode(message.data));
      }
      if (found.some((event) => event['conversationId'] === conversationId)) return found;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return found;
  }

  async function completedTransfer(): Promise<{
    conversationId: string;
    bundle: { entry: { resource: Record<string, unknown> }[] };
  }> {
    await under.simulator.setRecord(PATIENT, { documents: DOCUMENTS });
    const start = request();
    const first = await under.client.startTransfer(start, practice(REQUESTER));
    expect(first).toEqual({
      conversationId: start.conversationId,
      outcome: 'accepted',
      state: 'EHR_EXTRACT_REQUEST_ACCEPTED',
    });
    const done = await untilSettled(under.client, start, practice(REQUESTER));
    expect(done.outcome).toBe('completed');
    return { conversationId: start.conversationId, bundle: JSON.parse(done.bundleJson!) };
  }

  function links(bundle: { entry: { resource: Record<string, unknown> }[] }): string[] {
    return bundle.entry
      .map((entry) => entry.resource)
      .filter((resource) => resource['resourceType'] === 'DocumentReference')
      .map((resource) => (resource['content'] as { attachment: { url: string } }[])[0].attachment.url);
  }

  it('moves a record and its attachments from the sending practice to the requester byte for byte, then closes on ACCEPTED', async () => {
    const { conversationId, bundle } = await completedTransfer();
    const addresses = links(bundle);
    expect(addresses).toHaveLength(3);
    for (const [position, address] of addresses.entries()) {
      expect(address).toMatch(/^\/gp2gp\/attachments\/[\w-]+\.[\w-]+$/);
      const got = await downloadThroughLink(under.client, address, practice(REQUESTER, 'clinician'));
      const expected = await under.simulator.documentSha256(
        `${under.simulator.endpointOf(SENDER)}/Binary/${PATIENT}-${position}-${DOCUMENTS[position].size}`,
      );
      expect(got).toEqual({ sha256: expected, size: DOCUMENTS[position].size, declaredSha256: expected });
    }
    // Attachments over the fragment size (256 KiB here, 4.5 MB by default) travel as fragments with an index.
    const status = await under.client.status({ conversationId }, operator());
    expect(status).toMatchObject({
      state: 'EHR_EXTRACT_TRANSLATED',
      requestingOds: REQUESTER,
      sendingOds: SENDER,
      reason: null,
    });
    expect(
      status.attachments.map((attachment) => [attachment.fragments, attachment.fragmentsStored, attachment.verified]),
    ).toEqual([
      [5, 5, true],
      [1, 1, true],
      [3, 3, true],
    ]);
    expect(status.log.map((entry) => entry.state)).toEqual([
      'REQUEST_RECEIVED',
      'EHR_EXTRACT_REQUEST_ACCEPTED',
      'EHR_EXTRACT_RECEIVED',
      'CONTINUE_REQUEST_ACCEPTED',
      'COPC_MESSAGE_RECEIVED',
      'EHR_EXTRACT_TRANSLATED',
    ]);
    expect(JSON.stringify(status)).not.toContain(PATIENT);

    const acked = await under.client.acknowledge(
      { conversationId, confirmationResponse: 'ACCEPTED' },
      practice(REQUESTER),
    );
    expect(acked.state).toBe('MIGRATION_COMPLETED');
    expect(await events(GP2GP_EVENTS.transferCompleted, conversationId)).toContainEqual(
      expect.objectContaining({ conversationId, requestingOds: REQUESTER, sendingOds: SENDER }),
    );
    // A duplicate acknowledgement finds the transfer closed and changes nothing.
    const again = await rejectionOf(
      under.client.acknowledge({ conversationId, confirmationResponse: 'ACCEPTED' }, practice(REQUESTER)),
    );
    expect(again.code).toBe('GP2GP_TRANSFER_CLOSED');
    const late = await rejectionOf(
      under.client.acknowledge(
        { conversationId, confirmationResponse: 'FAILED_TO_INTEGRATE', reasonCode: '11' },
        practice(REQUESTER),
      ),
    );
    expect(late.code).toBe('GP2GP_TRANSFER_CLOSED');
    expect((await under.client.status({ conversationId }, operator())).state).toBe('MIGRATION_COMPLETED');
    // Every read of the record and of each attachment is audited.
    const audit = await rows(`SELECT action FROM $schema.record_access WHERE conversation_id = $1 ORDER BY id`, [
      conversationId,
    ]);
    expect(audit.map((row) => row['action'])).toEqual(
      expect.arrayContaining(['record.read', 'attachment.read:0', 'attachment.read:1', 'attachment.read:2']),
    );
    // Once closed, its fragments are purged from the object store and its links serve nothing.
    const deadline = Date.now() + 5000;
    let left = -1;
    while (Date.now() < deadline && left !== 0) {
      const store = await under.connection.jetstream().views.os(GP2GP_FRAGMENT_BUCKET);
      left = (await store.list()).filter((entry) => entry.name.startsWith(`${conversationId}/`)).length;
      if (left) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(left).toBe(0);
    const closed = await rejectionOf(downloadThroughLink(under.client, addresses[0], practice(REQUESTER)));
    expect(closed.code).toBe('GP2GP_LINK_EXPIRED');
  });

  it('fails with reason 19 when PDS does not name the requester as the patient’s practice, and says so on every poll', async () => {
    const start = request();
    const reply = await under.client.startTransfer(start, practice('B81001'));
    expect(reply).toMatchObject({
      outcome: 'failed',
      state: 'EHR_EXTRACT_REQUEST_NEGATIVE_ACK',
      reason: { code: '19', httpStatus: 403 },
    });
    expect(await under.client.startTransfer(start, practice('B81001'))).toEqual(reply);
    expect(await events(GP2GP_EVENTS.transferFailed, start.conversationId)).toContainEqual(
      expect.objectContaining({ conversationId: start.conversationId, reasonCode: '19', printRecord: false }),
    );
    expect(await rows(`SELECT 1 FROM $schema.attachment WHERE conversation_id = $1`, [start.conversationId])).toEqual(
      [],
    );
  });

  it('answers an invalid or unknown NHS number with a 4xx and records no transfer', async () => {
    const invalid = await rejectionOf(
      under.client.startTransfer({ ...request(), nhsNumber: '9000000008' }, practice(REQUESTER)),
    );
    expect(invalid).toMatchObject({ code: 'INVALID_RESOURCE_ID', httpStatus: 400 });
    const unknown = await rejectionOf(
      under.client.startTransfer({ ...request(), nhsNumber: '9999999999' }, practice(REQUESTER)),
    );
    expect(unknown.httpStatus).toBe(404);
    const noOrganisation = await rejectionOf(
      under.client.startTransfer(request(), {
        requestId: randomUUID(),
        caller: { id: 'x', roles: ['practice-admin'] },
      }),
    );
    expect(noOrganisation.code).toBe('GP2GP_NO_ORGANISATION');
    expect(await rows(`SELECT 1 FROM $schema.transfer WHERE nhs_number IN ('9000000008', '9999999999')`)).toEqual([]);
  });

  it('fails with 24 when the registry has no GP Connect endpoint for the sending practice, and 06 when it does not hold the patient', async () => {
    const noEndpoint = await under.client.startTransfer(request(randomUUID(), 'VNE51'), practice(REQUESTER));
    expect(noEndpoint).toMatchObject({ outcome: 'failed', reason: { code: '24' } });
    await under.simulator.setRecord(PATIENT, { documents: [], absentFrom: [SENDER] });
    const start = request();
    await under.client.startTransfer(start, practice(REQUESTER));
    const absent = await untilSettled(under.client, start, practice(REQUESTER));
    expect(absent).toMatchObject({
      outcome: 'failed',
      state: 'EHR_EXTRACT_REQUEST_NEGATIVE_ACK',
      reason: { code: '06' },
    });
  });

  it('retries a sending practice whose system does not answer, then fails the transfer with 10', async () => {
    // A practice whose registered GP Connect endpoint answers nothing (a closed port).
    await under.n3.upsertOrganisation(
      {
        odsCode: 'Y99101',
        name: 'UNREACHABLE SURGERY',
        role: 'gp-practice',
        status: 'active',
        addressLines: [],
        gpConnectEndpoint: 'http://127.0.0.1:9/Y99101/fhir',
      },
      { requestId: randomUUID(), caller: { id: 'registry-admin-1', roles: ['registry-admin'] } },
    );
    const start = request(randomUUID(), 'Y99101');
    expect((await under.client.startTransfer(start, practice(REQUESTER))).outcome).toBe('accepted');
    const failed = await untilSettled(under.client, start, practice(REQUESTER));
    expect(failed).toMatchObject({
      outcome: 'failed',
      state: 'EHR_EXTRACT_REQUEST_NEGATIVE_ACK',
      reason: { code: '10' },
    });
    const status = await under.client.status({ conversationId: start.conversationId }, operator());
    expect(status.log.at(-1)?.detail).toMatch(/did not answer/);
    // It was tried GP2GP_SENDER_ATTEMPTS (3) times, with back-off (0.5 s, 1 s), before failing.
    expect(Date.parse(status.log.at(-1)!.at) - Date.parse(status.requestedAt)).toBeGreaterThanOrEqual(1400);
  });

  it('plays the attacker: another practice cannot poll, acknowledge or use a link; altered and expired links are refused', async () => {
    const { conversationId, bundle } = await completedTransfer();
    const [address] = links(bundle);
    const other = practice('B81001');
    expect((await rejectionOf(under.client.startTransfer(request(conversationId), other))).code).toBe(
      'GP2GP_TRANSFER_NOT_FOUND',
    );
    expect(
      (await rejectionOf(under.client.acknowledge({ conversationId, confirmationResponse: 'ACCEPTED' }, other))).code,
    ).toBe('GP2GP_TRANSFER_NOT_FOUND');
    expect((await rejectionOf(downloadThroughLink(under.client, address, other))).code).toBe('GP2GP_LINK_INVALID');
    const [payload, signature] = address.replace('/gp2gp/attachments/', '').split('.');
    // The same link re-addressed to the attacker's practice: the signature no longer matches.
    const swapped = Buffer.concat([Buffer.from(payload, 'base64url').subarray(0, 22), Buffer.from('B81001')]).toString(
      'base64url',
    );
    expect((await rejectionOf(downloadThroughLink(under.client, `${swapped}.${signature}`, other))).code).toBe(
      'GP2GP_LINK_INVALID',
    );
    expect(
      (await rejectionOf(downloadThroughLink(under.client, `${payload}.x${signature}`, practice(REQUESTER)))).code,
    ).toBe('GP2GP_LINK_INVALID');
    const expired = new AttachmentLinks(TEST_LINK_SECRET, 60).sign(
      { conversationId, position: 0, organisation: REQUESTER },
      Date.now() - 3600_000,
    );
    expect((await rejectionOf(downloadThroughLink(under.client, expired, practice(REQUESTER)))).code).toBe(
      'GP2GP_LINK_EXPIRED',
    );
    // A cursor naming another stored object's chunks (IDs of one process run in sequence, so guessable) is
    // refused: the link's own attachment decides which object is read.
    const [first] = links(bundle).map((link) => link.replace('/gp2gp/attachments/', ''));
    const [third] = await rows(
      'SELECT object_name FROM $schema.fragment WHERE conversation_id = $1 AND position = 2 ORDER BY index LIMIT 1',
      [conversationId],
    );
    const bucket = await under.connection.jetstream().views.os(GP2GP_FRAGMENT_BUCKET);
    const foreign = await bucket.info(String(third.object_name));
    expect(foreign?.nuid).toMatch(/^\w+$/);
    const forged = `0.0.0.${foreign!.nuid}`;
    expect(
      (await rejectionOf(under.client.readAttachment({ token: first, cursor: forged }, practice(REQUESTER)))).code,
    ).toBe('INVALID_VALUE');
    // Roles: a pharmacist may not start transfers; a practice may not read operators' status or resend.
    expect((await rejectionOf(under.client.startTransfer(request(), practice(REQUESTER, 'pharmacist')))).code).toBe(
      'ACCESS_DENIED',
    );
    expect((await rejectionOf(under.client.status({ conversationId }, practice(REQUESTER)))).code).toBe(
      'ACCESS_DENIED',
    );
    expect((await rejectionOf(under.client.resend({ conversationId }, practice(REQUESTER)))).code).toBe(
      'ACCESS_DENIED',
    );
    // Nothing changed.
    expect((await under.client.status({ conversationId }, operator())).state).toBe('EHR_EXTRACT_TRANSLATED');
  });

  it('starts one transfer for 30 simultaneous starts of one conversation, and one each for 10 conversations at once', async () => {
    await under.simulator.setRecord(PATIENT, { documents: DOCUMENTS.slice(1, 2) });
    const start = request();
    const replies = outcomes(await allAtOnce(30, 15_000, () => under.client.startTransfer(start, practice(REQUESTER))));
    const accepted = replies.filter((reply) => typeof reply !== 'string' && reply.outcome === 'accepted');
    expect(replies.filter((reply) => typeof reply === 'string')).toEqual([]);
    expect(accepted).toHaveLength(1);
    expect(
      await rows(`SELECT count(*)::int AS n FROM $schema.transfer WHERE conversation_id = $1`, [start.conversationId]),
    ).toEqual([{ n: 1 }]);
    const many = Array.from({ length: 10 }, () => request());
    const started = outcomes(
      await allAtOnce(10, 15_000, (index) => under.client.startTransfer(many[index], practice(REQUESTER))),
    );
    expect(started.filter((reply) => typeof reply === 'string')).toEqual([]);
    for (const one of [start, ...many]) {
      expect((await untilSettled(under.client, one, practice(REQUESTER))).outcome).toBe('completed');
    }
    const fragments = await rows(
      `SELECT conversation_id, count(*)::int AS n FROM $schema.fragment WHERE conversation_id = ANY($1::uuid[]) GROUP BY conversation_id`,
      [[start, ...many].map((one) => one.conversationId)],
    );
    expect(fragments).toHaveLength(11);
    expect(fragments.every((row) => row['n'] === 1)).toBe(true);
  });

  it('takes one of 30 simultaneous acknowledgements and one of 20 simultaneous resends; the rest change nothing', async () => {
    const { conversationId } = await completedTransfer();
    const acks = outcomes(
      await allAtOnce(30, 15_000, (index) =>
        under.client.acknowledge(
          index % 2
            ? { conversationId, confirmationResponse: 'ACCEPTED' }
            : { conversationId, confirmationResponse: 'FAILED_TO_INTEGRATE', reasonCode: '11' },
          practice(REQUESTER),
        ),
      ),
    );
    const taken = acks.filter((ack) => typeof ack !== 'string');
    expect(taken).toHaveLength(1);
    expect(acks.filter((ack) => typeof ack === 'string')).toEqual(Array(29).fill('GP2GP_TRANSFER_CLOSED'));
    const finalAcks = await rows(
      `SELECT count(*)::int AS n FROM $schema.transfer_log WHERE conversation_id = $1 AND state = 'FINAL_ACK_SENT'`,
      [conversationId],
    );
    expect(finalAcks).toEqual([{ n: 1 }]);

    // A failed transfer, resent by 20 operators at once: one resend.
    await under.simulator.setRecord(PATIENT, { documents: [DOCUMENTS[1]], absentFrom: [SENDER] });
    const start = request();
    await under.client.startTransfer(start, practice(REQUESTER));
    expect((await untilSettled(under.client, start, practice(REQUESTER))).reason?.code).toBe('06');
    // The sender holds the patient again, so the one resend completes (and is not resendable a second time).
    await under.simulator.setRecord(PATIENT, { documents: [DOCUMENTS[1]] });
    const resends = outcomes(
      await allAtOnce(20, 15_000, () => under.client.resend({ conversationId: start.conversationId }, operator())),
    );
    expect(resends.filter((resend) => typeof resend !== 'string')).toHaveLength(1);
    expect(resends.filter((resend) => typeof resend === 'string')).toEqual(Array(19).fill('GP2GP_NOT_RESENDABLE'));
    expect((await under.client.status({ conversationId: start.conversationId }, operator())).resends).toBe(1);
  });

  it('refuses an acknowledgement before the record is ready (out of order) and takes FAILED_TO_INTEGRATE with a reason', async () => {
    await under.simulator.setRecord(PATIENT, { documents: [DOCUMENTS[0]], bytesPerSecond: 2 * MiB });
    const start = request();
    await under.client.startTransfer(start, practice(REQUESTER));
    const early = await rejectionOf(
      under.client.acknowledge(
        { conversationId: start.conversationId, confirmationResponse: 'ACCEPTED' },
        practice(REQUESTER),
      ),
    );
    expect(early.code).toBe('GP2GP_OUT_OF_ORDER');
    expect((await untilSettled(under.client, start, practice(REQUESTER))).outcome).toBe('completed');
    const noReason = await rejectionOf(
      under.client.acknowledge(
        { conversationId: start.conversationId, confirmationResponse: 'FAILED_TO_INTEGRATE' },
        practice(REQUESTER),
      ),
    );
    expect(noReason.code).toBe('INVALID_VALUE');
    const failed = await under.client.acknowledge(
      { conversationId: start.conversationId, confirmationResponse: 'FAILED_TO_INTEGRATE', reasonCode: '11' },
      practice(REQUESTER),
    );
    expect(failed).toMatchObject({ state: 'EHR_EXTRACT_NEGATIVE_ACK_FAILED_TO_INTEGRATE', reason: { code: '11' } });
    expect(await events(GP2GP_EVENTS.transferFailed, start.conversationId)).toContainEqual(
      expect.objectContaining({ conversationId: start.conversationId, reasonCode: '11', printRecord: true }),
    );
  });

  it('ends a transfer with no final acknowledgement by its due time with 99 and tells the sending practice to print', async () => {
    const { conversationId } = await completedTransfer();
    await rows(`UPDATE $schema.transfer SET ack_due_at = now() - interval '1 second' WHERE conversation_id = $1`, [
      conversationId,
    ]);
    const deadline = Date.now() + 10_000;
    let state = '';
    while (Date.now() < deadline && state !== 'ERROR_REQUEST_TIMEOUT') {
      state = (await under.client.status({ conversationId }, operator())).state;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(state).toBe('ERROR_REQUEST_TIMEOUT');
    expect(await events(GP2GP_EVENTS.transferTimedOut, conversationId)).toContainEqual(
      expect.objectContaining({ conversationId, reasonCode: '99', action: 'print-record', sendingOds: SENDER }),
    );
    const late = await rejectionOf(
      under.client.acknowledge({ conversationId, confirmationResponse: 'ACCEPTED' }, practice(REQUESTER)),
    );
    expect(late.code).toBe('GP2GP_TRANSFER_CLOSED');
  });

  it('lets an operator resend a failed transfer, which then completes; a completed one cannot be resent', async () => {
    await under.simulator.setRecord(PATIENT, { documents: [DOCUMENTS[1]], absentFrom: [SENDER] });
    const start = request();
    await under.client.startTransfer(start, practice(REQUESTER));
    expect((await untilSettled(under.client, start, practice(REQUESTER))).reason?.code).toBe('06');
    await under.simulator.setRecord(PATIENT, { documents: [DOCUMENTS[1]] });
    const resent = await under.client.resend({ conversationId: start.conversationId }, operator());
    expect(resent).toMatchObject({ state: 'EHR_EXTRACT_REQUEST_ACCEPTED', resends: 1, reason: null });
    expect((await untilSettled(under.client, start, practice(REQUESTER))).outcome).toBe('completed');
    expect((await rejectionOf(under.client.resend({ conversationId: start.conversationId }, operator()))).code).toBe(
      'GP2GP_NOT_RESENDABLE',
    );
    const page = await under.client.list(
      { state: 'EHR_EXTRACT_TRANSLATED', requestingOds: REQUESTER, limit: 200, offset: 0 },
      operator(),
    );
    expect(page.items.map((item) => item.conversationId)).toContain(start.conversationId);
    expect(page.items.every((item) => item.state === 'EHR_EXTRACT_TRANSLATED')).toBe(true);
  });
});
