import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { UpsertOrganisationRequest } from '@platform/contracts-n3';
import type { CallContext } from '@platform/shared-nats';
import { GP2GP_EVENTS } from '@platform/contracts-gp2gp';
import {
  eventually,
  registryAdmin,
  startNhsmailRelayUnderTest,
  type NhsmailRelayUnderTest,
} from '../nhsmail-relay.test-harness';
import { PracticeNotices } from '../notices/practice-notices';

function userOf(organisation: string, roles = ['clinician']): CallContext {
  return {
    requestId: randomUUID(),
    caller: { id: `user-${organisation}`, username: `user.${organisation.toLowerCase()}`, roles, organisation },
  };
}

async function rejectionOf(promise: Promise<unknown>): Promise<{ code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string };
  }
  throw new Error('expected a rejection');
}

/**
 * Bulk provisioning of the organisations' shared mailboxes from the N3 registry's directory (issue 15 item 3):
 * gp.<ODS>@nhs.net for every active GP practice (before its first notice) and pharmacy.<ODS>@nhs.net for
 * every active pharmacy. Real relay, real N3 registry, NATS and PostgreSQL.
 */
describe('shared mailboxes from the organisation directory', () => {
  let relay: NhsmailRelayUnderTest;
  const practices = Array.from({ length: 12 }, (_, n) => `G8${String(n).padStart(4, '0')}`);
  const pharmacies = ['FP001', 'FP002', 'FP003'];

  const rows = async (address: string): Promise<{ kind: string; ods_code: string; display_name: string }[]> =>
    (
      await relay.db.query<{ kind: string; ods_code: string; display_name: string }>(
        `SELECT kind, ods_code, display_name FROM "${relay.schema}".mailbox WHERE address = $1`,
        [address],
      )
    ).rows;

  beforeAll(async () => {
    relay = await startNhsmailRelayUnderTest({ schemaPrefix: 'nhsmail_directory' });
    const organisation = (odsCode: string, role: string, status: string) =>
      relay.n3.upsertOrganisation(
        { odsCode, name: `Test ${odsCode}`, role, status, addressLines: [] } as unknown as UpsertOrganisationRequest,
        registryAdmin(),
      );
    for (const code of practices) await organisation(code, 'gp-practice', 'active');
    for (const code of pharmacies) await organisation(code, 'pharmacy', 'active');
    await organisation('G89999', 'gp-practice', 'closed');
    await organisation('RR8', 'nhs-trust', 'active');
  }, 60_000);

  afterAll(async () => {
    await relay?.stop();
  });

  it('makes every GP practice and pharmacy mailbox once, however many calls run at once', async () => {
    // One practice already has its mailbox, made by its first notice.
    await relay.app.get(PracticeNotices).queue(`gp2gp-outbox-${randomUUID()}`, GP2GP_EVENTS.transferTimedOut, {
      odsCode: practices[0] ?? '',
      subject: 'GP2GP transfer not acknowledged',
      text: 'print',
    });
    const expected = [
      ...practices.map((code) => `gp.${code.toLowerCase()}@nhs.net`),
      ...pharmacies.map((code) => `pharmacy.${code.toLowerCase()}@nhs.net`),
    ].sort();

    const answers = await Promise.all(
      Array.from({ length: 30 }, () => relay.client.provisionDirectoryMailboxes(registryAdmin())),
    );
    const created = answers.flatMap((answer) => answer.created);
    // Made once each across all the calls (no address in two answers' created), the notice's one never.
    expect([...created].sort()).toEqual(
      expected.filter((address) => address !== `gp.${practices[0]?.toLowerCase()}@nhs.net`),
    );
    // Every call accounts for every mailbox, made now or existing.
    for (const answer of answers) expect([...answer.created, ...answer.existing].sort()).toEqual(expected);
    for (const address of expected) expect(await rows(address)).toHaveLength(1);
    // Closed practices and other roles get none.
    expect(await rows('gp.g89999@nhs.net')).toEqual([]);
    expect(await rows('gp.rr8@nhs.net')).toEqual([]);
    expect(await rows('pharmacy.rr8@nhs.net')).toEqual([]);
    // As its first notice would have made it: shared, with the practice's ODS code.
    expect(await rows(`gp.${practices[1]?.toLowerCase()}@nhs.net`)).toEqual([
      { kind: 'shared', ods_code: practices[1], display_name: `GP practice ${practices[1]}` },
    ]);

    // Again: all existing, nothing made.
    const again = await relay.client.provisionDirectoryMailboxes(registryAdmin());
    expect(again.created).toEqual([]);
    expect([...again.existing].sort()).toEqual(expected);
  }, 60_000);

  it("lets the practice's users use its mailbox, and nobody else's users", async () => {
    const practice = practices[2] ?? '';
    const address = `gp.${practice.toLowerCase()}@nhs.net`;
    const mine = await relay.client.myMailboxes(userOf(practice));
    expect(mine.shared.map((mailbox) => mailbox.address)).toEqual([address]);
    await expect(relay.client.listMessages({ mailbox: address }, userOf(practice))).resolves.toMatchObject({
      total: 0,
    });
    const other = await relay.client.myMailboxes(userOf(practices[3] ?? ''));
    expect(other.shared.map((mailbox) => mailbox.address)).not.toContain(address);
    expect((await rejectionOf(relay.client.listMessages({ mailbox: address }, userOf(practices[3] ?? '')))).code).toBe(
      'NHSMAIL_MAILBOX_FORBIDDEN',
    );
  }, 30_000);

  it('a notice for a provisioned practice lands in its mailbox, and only registry administrators may provision', async () => {
    const practice = practices[4] ?? '';
    const address = `gp.${practice.toLowerCase()}@nhs.net`;
    expect(
      await relay.app.get(PracticeNotices).queue(`gp2gp-outbox-${randomUUID()}`, GP2GP_EVENTS.transferTimedOut, {
        odsCode: practice,
        subject: 'GP2GP transfer not acknowledged',
        text: 'print',
      }),
    ).toBe(true);
    expect(await rows(address)).toHaveLength(1);

    // A practice's clinician, a practice administrator of it, ops: refused, and nothing made.
    const before = await relay.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${relay.schema}".mailbox`);
    for (const caller of [userOf(practice), userOf(practice, ['practice-admin']), userOf('X26', ['ops'])]) {
      expect((await rejectionOf(relay.client.provisionDirectoryMailboxes(caller))).code).toBe('ACCESS_DENIED');
    }
    const after = await relay.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${relay.schema}".mailbox`);
    expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
  }, 30_000);

  it('makes them at start when NHSMAIL_PROVISION_DIRECTORY_AT_START is true, once with two replicas starting together', async () => {
    await relay.n3.upsertOrganisation(
      {
        odsCode: 'G87777',
        name: 'Test G87777',
        role: 'gp-practice',
        status: 'active',
        addressLines: [],
      } as unknown as UpsertOrganisationRequest,
      registryAdmin(),
    );
    await relay.n3.upsertOrganisation(
      {
        odsCode: 'FP777',
        name: 'Test FP777',
        role: 'pharmacy',
        status: 'active',
        addressLines: [],
      } as unknown as UpsertOrganisationRequest,
      registryAdmin(),
    );
    await Promise.all([
      relay.startAnother({ NHSMAIL_PROVISION_DIRECTORY_AT_START: 'true' }),
      relay.startAnother({ NHSMAIL_PROVISION_DIRECTORY_AT_START: 'true' }),
    ]);
    const made = async (): Promise<{ address: string; created_by: string }[]> =>
      (
        await relay.db.query<{ address: string; created_by: string }>(
          `SELECT address, created_by FROM "${relay.schema}".mailbox WHERE address IN ('gp.g87777@nhs.net', 'pharmacy.fp777@nhs.net') ORDER BY address`,
        )
      ).rows;
    // Asked of the registry as the relay itself.
    expect(await eventually(made, (rows) => rows.length === 2, 15_000)).toEqual([
      { address: 'gp.g87777@nhs.net', created_by: 'service:nhsmail-relay' },
      { address: 'pharmacy.fp777@nhs.net', created_by: 'service:nhsmail-relay' },
    ]);
    expect(await rows('gp.g87777@nhs.net')).toEqual([
      { kind: 'shared', ods_code: 'G87777', display_name: 'GP practice G87777' },
    ]);
  }, 60_000);
});
