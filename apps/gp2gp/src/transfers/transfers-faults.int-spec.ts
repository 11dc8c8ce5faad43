import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { GP2GP_FRAGMENT_BUCKET } from '@platform/contracts-gp2gp';
import {
  downloadThroughLink,
  operator,
  PATIENT,
  practice,
  REQUESTER,
  SENDER,
  startGp2gpProcess,
  startGp2gpUnderTest,
  untilSettled,
  type Gp2gpProcess,
  type Gp2gpUnderTest,
} from '../gp2gp.test-harness';

const MiB = 1024 * 1024;

/**
 * Faults mid-transfer. gp2gp runs here as processes built into dist/ (so that one can be killed outright),
 * against real PostgreSQL and JetStream, the real pds and n3-registry and the GP Connect simulator serving
 * slowly enough (a slow practice system) for the test to act while fragments are still arriving.
 */
describe('gp2gp under faults', () => {
  let under: Gp2gpUnderTest;
  let worker: Gp2gpProcess | undefined;

  beforeAll(async () => {
    under = await startGp2gpUnderTest({ schemaPrefix: 'gp2gp_fault', inProcess: false });
  });
  afterAll(async () => {
    await worker?.stop();
    await under?.stop();
  });

  const stored = async (conversationId: string): Promise<{ index: number; stored_at: Date; object_name: string }[]> =>
    (
      await under.db.query<{ index: number; stored_at: Date; object_name: string }>(
        `SELECT index, stored_at, object_name FROM "${under.schema}".fragment WHERE conversation_id = $1 ORDER BY index`,
        [conversationId],
      )
    ).rows;

  async function untilFragments(conversationId: string, count: number): Promise<void> {
    const deadline = Date.now() + 15_000;
    while ((await stored(conversationId)).length < count) {
      if (Date.now() > deadline) throw new Error(`fewer than ${count} fragments stored in time`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('resumes a transfer whose gp2gp process was killed mid-attachment, losing and duplicating no fragment', async () => {
    worker = await startGp2gpProcess(under.env);
    const size = 3 * MiB + 1000;
    await under.simulator.setRecord(PATIENT, {
      documents: [{ size, contentType: 'application/pdf', title: 'Scanned notes' }],
      bytesPerSecond: 1.5 * MiB,
    });
    const start = { conversationId: randomUUID(), nhsNumber: PATIENT, sendingOds: SENDER };
    expect((await under.client.startTransfer(start, practice(REQUESTER))).outcome).toBe('accepted');
    await untilFragments(start.conversationId, 3);
    await worker.kill();
    const killedAt = new Date();
    const before = await stored(start.conversationId);
    expect(before.length).toBeLessThan(13);

    // Another process takes the transfer over once the dead one's lease lapses, from the next fragment.
    worker = await startGp2gpProcess(under.env);
    const done = await untilSettled(under.client, start, practice(REQUESTER), 25_000);
    expect(done.outcome).toBe('completed');
    const after = await stored(start.conversationId);
    expect(after.map((fragment) => fragment.index)).toEqual(Array.from({ length: 13 }, (_, index) => index));
    // The fragments stored before the kill were kept, not fetched and stored again.
    for (const fragment of before) {
      expect(after[fragment.index].stored_at.getTime()).toBe(fragment.stored_at.getTime());
      expect(fragment.stored_at.getTime()).toBeLessThanOrEqual(killedAt.getTime());
    }
    const store = await under.connection.jetstream().views.os(GP2GP_FRAGMENT_BUCKET);
    const objects = (await store.list()).filter(
      (entry) => !entry.deleted && entry.name.startsWith(`${start.conversationId}/`),
    );
    expect(objects.map((entry) => entry.name).sort()).toEqual(after.map((fragment) => fragment.object_name).sort());
    expect(objects.reduce((sum, entry) => sum + entry.size, 0)).toBe(size);

    const bundle = JSON.parse(done.bundleJson!) as { entry: { resource: Record<string, unknown> }[] };
    const link = bundle.entry
      .map((entry) => entry.resource)
      .find((resource) => resource['resourceType'] === 'DocumentReference')!['content'] as {
      attachment: { url: string };
    }[];
    const got = await downloadThroughLink(under.client, link[0].attachment.url, practice(REQUESTER));
    expect(got.size).toBe(size);
    expect(got.sha256).toBe(
      await under.simulator.documentSha256(`${under.simulator.endpointOf(SENDER)}/Binary/${PATIENT}-0-${size}`),
    );
  });

  it('fails with 31 when a stored fragment goes missing and 29 when one is altered, before the record is delivered', async () => {
    worker ??= await startGp2gpProcess(under.env);
    const size = 2 * MiB;
    await under.simulator.setRecord(PATIENT, {
      documents: [{ size, contentType: 'image/tiff', title: 'Scan' }],
      bytesPerSecond: 2 * MiB,
    });
    const store = await under.connection.jetstream().views.os(GP2GP_FRAGMENT_BUCKET);

    const missing = { conversationId: randomUUID(), nhsNumber: PATIENT, sendingOds: SENDER };
    await under.client.startTransfer(missing, practice(REQUESTER));
    await untilFragments(missing.conversationId, 1);
    await store.delete((await stored(missing.conversationId))[0].object_name);
    const lost = await untilSettled(under.client, missing, practice(REQUESTER));
    expect(lost).toMatchObject({
      outcome: 'failed',
      state: 'ERROR_LRG_MSG_ATTACHMENTS_NOT_RECEIVED',
      reason: { code: '31' },
    });

    const altered = { conversationId: randomUUID(), nhsNumber: PATIENT, sendingOds: SENDER };
    await under.client.startTransfer(altered, practice(REQUESTER));
    await untilFragments(altered.conversationId, 1);
    const [first] = await stored(altered.conversationId);
    await store.putBlob({ name: first.object_name }, Buffer.alloc(256 * 1024, 7));
    const corrupt = await untilSettled(under.client, altered, practice(REQUESTER));
    expect(corrupt).toMatchObject({
      outcome: 'failed',
      state: 'ERROR_LRG_MSG_REASSEMBLY_FAILURE',
      reason: { code: '29' },
    });
    // Neither was delivered: no Bundle, and operators see why.
    expect(corrupt.bundleJson).toBeUndefined();
    expect((await under.client.status({ conversationId: altered.conversationId }, operator())).reason?.code).toBe('29');
  });
});
