import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { StartTransferReply } from '@platform/contracts-gp2gp';
import {
  attachmentLinks,
  downloadThroughLink,
  PATIENT,
  practice,
  REQUESTER,
  SENDER,
  sentDocumentSha256,
  startGp2gpProcess,
  startGp2gpUnderTest,
  type Gp2gpProcess,
  type Gp2gpUnderTest,
} from '../gp2gp.test-harness';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Issue 14: a transfer in flight across a kill -9 of gp2gp and then a NATS restart must end, byte-exact or
 * failed with its reason, and the restart must not take gp2gp down. gp2gp runs as processes built into dist/
 * on a private nats-server that the test kills and starts again (same port and streams) while the process
 * that took the transfer over is storing a fragment of several object-store messages (3 MiB fragments, the
 * GP Connect simulator sending slowly), NATS staying away longer than a JetStream publish waits (5 s).
 */
describe('gp2gp across a kill and a NATS restart', () => {
  let under: Gp2gpUnderTest;
  let worker: Gp2gpProcess | undefined;

  beforeAll(async () => {
    under = await startGp2gpUnderTest({
      schemaPrefix: 'gp2gp_natsrs',
      inProcess: false,
      settings: { GP2GP_FRAGMENT_BYTES: String(3 * MiB) },
    });
  }, 60_000);
  afterAll(async () => {
    await worker?.stop();
    await under?.stop();
  });

  const transfer = async (conversationId: string): Promise<{ state: string; lease_owner: string | null }> =>
    (
      await under.db.query<{ state: string; lease_owner: string | null }>(
        `SELECT state, lease_owner FROM "${under.schema}".transfer WHERE conversation_id = $1`,
        [conversationId],
      )
    ).rows[0];

  async function until(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`not in time: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Kills the running gp2gp process (kill -9) and starts another, which takes the transfer over once its lease lapses. */
  async function killAndTakeOver(conversationId: string): Promise<void> {
    const killed = (await transfer(conversationId)).lease_owner;
    await worker?.kill();
    worker = await startGp2gpProcess(under.env);
    await until('taken over', async () => {
      const owner = (await transfer(conversationId)).lease_owner;
      return owner !== null && owner !== killed;
    });
  }

  /** Polls the transfer until it has ended (or the deadline passes), riding out the test client's reconnect. */
  async function untilEnded(request: {
    conversationId: string;
    nhsNumber: string;
    sendingOds: string;
  }): Promise<StartTransferReply | undefined> {
    const deadline = Date.now() + 40_000;
    let reply: StartTransferReply | undefined;
    for (;;) {
      reply = await under.client.startTransfer(request, practice(REQUESTER)).catch(() => reply);
      if (reply?.outcome === 'completed' || reply?.outcome === 'failed' || Date.now() > deadline) return reply;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('ends a fragmented transfer byte-exact after a kill of gp2gp and a NATS restart mid-fragment, gp2gp staying up', async () => {
    const documents = [
      { size: 3 * MiB + 100, contentType: 'application/pdf', title: 'Letters' },
      { size: 128 * KiB, contentType: 'image/png', title: 'Photo' },
      { size: MiB + 7, contentType: 'image/tiff', title: 'Scan' },
    ];
    await under.simulator.setRecord(PATIENT, { documents, bytesPerSecond: 256 * KiB });
    worker = await startGp2gpProcess(under.env);
    const start = { conversationId: randomUUID(), nhsNumber: PATIENT, sendingOds: SENDER };
    expect((await under.client.startTransfer(start, practice(REQUESTER))).outcome).toBe('accepted');
    await until(
      'attachments follow',
      async () => (await transfer(start.conversationId))?.state !== 'EHR_EXTRACT_REQUEST_ACCEPTED',
    );
    // Another process takes the transfer over once the dead one's lease lapses; two seconds into its first
    // fragment (one message of it published), nats-server is killed and comes back six seconds later.
    await killAndTakeOver(start.conversationId);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await under.restartNats(6000);

    const done = await untilEnded(start);
    expect(worker.alive()).toBe(true);
    expect({ outcome: done?.outcome, reason: done?.reason?.code }).toEqual({ outcome: 'completed', reason: undefined });
    const links = attachmentLinks(done);
    expect(links).toHaveLength(documents.length);
    for (const [position, link] of links.entries()) {
      const got = await downloadThroughLink(under.client, link, practice(REQUESTER));
      expect(got.size).toBe(documents[position].size);
      expect(got.sha256).toBe(await sentDocumentSha256(under, position, documents[position].size));
    }
  }, 90_000);

  it('retries, not fails with 29, a take-over whose read-back of the stored fragments meets a NATS restart', async () => {
    const size = 12 * MiB + 5;
    await under.simulator.setRecord(PATIENT, {
      documents: [{ size, contentType: 'application/pdf', title: 'Notes' }],
      bytesPerSecond: 3 * MiB,
    });
    await worker?.stop();
    worker = await startGp2gpProcess(under.env);
    const start = { conversationId: randomUUID(), nhsNumber: PATIENT, sendingOds: SENDER };
    expect((await under.client.startTransfer(start, practice(REQUESTER))).outcome).toBe('accepted');
    await until('three fragments stored', async () => {
      const stored = await under.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${under.schema}".fragment WHERE conversation_id = $1`,
        [start.conversationId],
      );
      return stored.rows[0].n >= 3;
    });
    // The next process takes the transfer over once the dead one's lease lapses and first reads back (and
    // checks) the 9 MiB stored before the kill; nats-server is killed as it does, for three seconds.
    await killAndTakeOver(start.conversationId);
    await under.restartNats(3000);

    const done = await untilEnded(start);
    expect(worker.alive()).toBe(true);
    expect({ outcome: done?.outcome, reason: done?.reason?.code }).toEqual({ outcome: 'completed', reason: undefined });
    const [link] = attachmentLinks(done);
    const got = await downloadThroughLink(under.client, link ?? '', practice(REQUESTER));
    expect(got.size).toBe(size);
    expect(got.sha256).toBe(await sentDocumentSha256(under, 0, size));
  }, 90_000);
});
