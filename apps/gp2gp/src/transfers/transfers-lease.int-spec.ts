import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { JSONCodec } from 'nats';
import { GP2GP_EVENT_STREAM, GP2GP_EVENTS } from '@platform/contracts-gp2gp';
import { allAtOnce } from '@platform/shared-testing';
import {
  attachmentLinks,
  downloadThroughLink,
  PATIENT,
  practice,
  REQUESTER,
  SENDER,
  sentDocumentSha256,
  startGp2gpUnderTest,
  untilSettled,
  type Gp2gpUnderTest,
} from '../gp2gp.test-harness';
import { TransferRepository } from './transfer.repository';
import { TransferWorker } from './transfer-worker';

const KiB = 1024;

/**
 * Issue 14 (exactly once under faults): a step that takes longer than the lease. The worker's lease here is
 * 500 ms and each 256 KiB fragment takes the GP Connect simulator 2 s to send, so every fragment outlasts the
 * lease several times over. The worker holding the transfer must neither claim it again for itself (two runs of
 * one transfer side by side) nor let it go: the transfer runs once, storing each fragment once, and completes.
 */
describe('gp2gp: a step slower than the lease', () => {
  let under: Gp2gpUnderTest;

  beforeAll(async () => {
    under = await startGp2gpUnderTest({ schemaPrefix: 'gp2gp_lease', settings: { GP2GP_LEASE_MS: '500' } });
  });
  afterAll(async () => {
    await under?.stop();
  });

  /** gp2gp's own counters and histogram counts from its /metrics, by series. */
  async function metrics(): Promise<Map<string, number>> {
    const text = await (await fetch(`${await under.app.getUrl()}/metrics`)).text();
    const series = new Map<string, number>();
    for (const line of text.split('\n')) {
      const match = /^(gp2gp_\S+)\s+(\S+)$/.exec(line);
      // Without the registry's default label (service="gp2gp").
      if (match)
        series.set(
          match[1]
            .replace(/,?service="gp2gp"/, '')
            .replace('{,', '{')
            .replace('{}', ''),
          Number(match[2]),
        );
    }
    return series;
  }
  const change = (before: Map<string, number>, after: Map<string, number>, name: string): number =>
    (after.get(name) ?? 0) - (before.get(name) ?? 0);

  async function eventsOf(subject: string, conversationId: string): Promise<Record<string, unknown>[]> {
    const manager = await under.connection.jetstreamManager();
    const codec = JSONCodec<Record<string, unknown>>();
    const info = await manager.streams.info(GP2GP_EVENT_STREAM);
    const found: Record<string, unknown>[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
      const message = await manager.streams.getMessage(GP2GP_EVENT_STREAM, { seq }).catch(() => undefined);
      if (message?.subject !== subject) continue;
      const event = codec.decode(message.data);
      if (event['conversationId'] === conversationId) found.push(event);
    }
    return found;
  }

  it('runs a transfer whose every fragment outlasts the lease once, and completes it', async () => {
    const size = 512 * KiB + 100;
    await under.simulator.setRecord(PATIENT, {
      documents: [{ size, contentType: 'application/pdf', title: 'Letters' }],
      bytesPerSecond: 128 * KiB,
    });
    const before = await metrics();
    const start = { conversationId: randomUUID(), nhsNumber: PATIENT, sendingOds: SENDER };
    expect((await under.client.startTransfer(start, practice(REQUESTER))).outcome).toBe('accepted');
    const done = await untilSettled(under.client, start, practice(REQUESTER), 25_000);
    expect({ outcome: done.outcome, reason: done.reason?.code }).toEqual({ outcome: 'completed', reason: undefined });
    const after = await metrics();

    // One run: the attachment's bytes came in once, as three fragments, and the record was made ready once.
    expect({
      bytesIn: change(before, after, 'gp2gp_attachment_bytes_total{direction="in"}'),
      fragments: change(before, after, 'gp2gp_fragments_stored_total'),
      ready: change(before, after, 'gp2gp_transfer_ready_seconds_count'),
      translated: change(before, after, 'gp2gp_transfer_transitions_total{state="EHR_EXTRACT_TRANSLATED"}'),
      received: change(before, after, 'gp2gp_transfer_transitions_total{state="EHR_EXTRACT_RECEIVED"}'),
    }).toEqual({ bytesIn: size, fragments: 3, ready: 1, translated: 1, received: 1 });
    const log = await under.db.query<{ state: string }>(
      `SELECT state FROM "${under.schema}".transfer_log WHERE conversation_id = $1 ORDER BY id`,
      [start.conversationId],
    );
    expect(log.rows.map((row) => row.state)).toEqual([
      'REQUEST_RECEIVED',
      'EHR_EXTRACT_REQUEST_ACCEPTED',
      'EHR_EXTRACT_RECEIVED',
      'CONTINUE_REQUEST_ACCEPTED',
      'COPC_MESSAGE_RECEIVED',
      'EHR_EXTRACT_TRANSLATED',
    ]);
    const transfer = await under.db.query<{ attempts: number; lease_owner: string | null }>(
      `SELECT attempts, lease_owner FROM "${under.schema}".transfer WHERE conversation_id = $1`,
      [start.conversationId],
    );
    expect(transfer.rows[0]).toEqual({ attempts: 0, lease_owner: null });
    // Nothing in progress is left counted once the transfer is done.
    expect(after.get('gp2gp_transfers_in_progress')).toBe(0);

    const [link] = attachmentLinks(done);
    const got = await downloadThroughLink(under.client, link ?? '', practice(REQUESTER));
    expect(got.size).toBe(size);
    expect(got.sha256).toBe(await sentDocumentSha256(under, 0, size));
    const acked = await under.client.acknowledge(
      { conversationId: start.conversationId, confirmationResponse: 'ACCEPTED' },
      practice(REQUESTER),
    );
    expect(acked.state).toBe('MIGRATION_COMPLETED');
    // One completion event, no failure event.
    const deadline = Date.now() + 5000;
    while ((await eventsOf(GP2GP_EVENTS.transferCompleted, start.conversationId)).length === 0) {
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await eventsOf(GP2GP_EVENTS.transferCompleted, start.conversationId)).toHaveLength(1);
    expect(await eventsOf(GP2GP_EVENTS.transferFailed, start.conversationId)).toHaveLength(0);
  });

  /** A transfer in a working state whose lease lapsed, as a worker that died leaves it. */
  async function lapsed(owner: string): Promise<string> {
    const conversationId = randomUUID();
    await under.db.query(
      `INSERT INTO "${under.schema}".transfer (conversation_id, nhs_number, requesting_ods, sending_ods, state,
         requested_by, lease_owner, lease_until)
       VALUES ($1, $2, $3, $4, 'COPC_MESSAGE_RECEIVED', 'test', $5, now() - interval '1 second')`,
      [conversationId, PATIENT, REQUESTER, SENDER, owner],
    );
    await under.db.query(
      `INSERT INTO "${under.schema}".attachment (conversation_id, position, document_id, source_url, content_type,
         size, fragment_count) VALUES ($1, 0, 'd', 'http://sender/x', 'application/pdf', 10, 1)`,
      [conversationId],
    );
    return conversationId;
  }

  // Last: these stop the in-process worker, so that only the test's own claims take the transfers.
  it('gives each lapsed transfer to exactly one of dozens of simultaneous claims, and never to the claim that holds it', async () => {
    await under.app.get(TransferWorker).stop();
    const repository = under.app.get(TransferRepository);
    const transfers: string[] = [];
    for (let count = 0; count < 5; count += 1) transfers.push(await lapsed('dead-worker/1'));
    const results = await allAtOnce(40, 20_000, (index) =>
      repository.claim(`claimer-${index}/1`, 60_000, index % 2 === 0 ? transfers : []),
    );
    const won = results.flatMap((result) =>
      result.status === 'fulfilled' && result.value && transfers.includes(result.value.conversation_id)
        ? [result.value.conversation_id]
        : [],
    );
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
    expect([...won].sort()).toEqual([...transfers].sort());
    // The claims that named these transfers as their own in progress took none of them.
    for (const [index, result] of results.entries()) {
      if (index % 2 === 0 && result.status === 'fulfilled' && result.value) {
        expect(transfers).not.toContain(result.value.conversation_id);
      }
    }
  });

  it('refuses every write of a claim whose transfer was taken over, even by the same worker', async () => {
    const repository = under.app.get(TransferRepository);
    const conversationId = await lapsed('dead-worker/1');
    const first = await repository.claim('worker-a/first', 1, []);
    expect(first?.conversation_id).toBe(conversationId);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The first claim's lease lapsed (1 ms); a second claim of the same worker takes the transfer over.
    const second = await repository.claim('worker-a/second', 60_000, []);
    expect(second?.conversation_id).toBe(conversationId);

    const fragment = { position: 0, index: 0, offset: 0, size: 10, sha256: 'a'.repeat(64), objectName: 'x/0/0/0' };
    expect({
      renew: await repository.renew(conversationId, 'worker-a/first', 60_000),
      fragment: await repository.recordFragment(conversationId, 'worker-a/first', fragment),
      complete: await repository.completeAttachment(conversationId, 'worker-a/first', 0, 'b'.repeat(64)),
      verified: await repository.markVerified(conversationId, 'worker-a/first', 0),
      moved: await repository.transition(
        repository.pool,
        conversationId,
        ['COPC_MESSAGE_RECEIVED'],
        'EHR_EXTRACT_TRANSLATED',
        { owner: 'worker-a/first' },
      ),
      retried: await repository.retryLater(conversationId, 'worker-a/first', 0, 'late', 3),
    }).toEqual({ renew: false, fragment: false, complete: false, verified: false, moved: false, retried: 0 });
    await repository.release(conversationId, 'worker-a/first');
    const row = await under.db.query(
      `SELECT t.state, t.lease_owner, t.attempts, a.sha256, a.verified,
         (SELECT count(*)::int FROM "${under.schema}".fragment f WHERE f.conversation_id = t.conversation_id) AS fragments
       FROM "${under.schema}".transfer t JOIN "${under.schema}".attachment a USING (conversation_id)
       WHERE t.conversation_id = $1`,
      [conversationId],
    );
    expect(row.rows[0]).toEqual({
      state: 'COPC_MESSAGE_RECEIVED',
      lease_owner: 'worker-a/second',
      attempts: 0,
      sha256: null,
      verified: false,
      fragments: 0,
    });
    // The claim that holds it writes.
    expect(await repository.recordFragment(conversationId, 'worker-a/second', fragment)).toBe(true);
    expect(await repository.markVerified(conversationId, 'worker-a/second', 0)).toBe(true);
  });
});
