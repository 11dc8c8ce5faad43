import 'reflect-metadata';
import { readdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { NhsmailRelayClient } from '@platform/contracts-nhsmail';
import { NatsRpcClient } from '@platform/shared-nats';
import { connect, type NatsConnection } from 'nats';
import {
  dropSchema,
  freePort,
  startTestNats,
  testDatabaseUrl,
  uniqueName,
  type TestNats,
} from '@platform/shared-testing';
import { startBuiltService, testGatewaySigner, type BuiltService } from '@platform/testing-services';
import {
  eventually,
  registryAdmin,
  startTestSink,
  submissionClient,
  testTls,
  type TestSink,
} from '../nhsmail-relay.test-harness';

const PASSWORD = 'correct horse battery staple';

/** The process started with this schema (the built relay is a child of startBuiltService, which keeps its pid). */
function pidWithSchema(schema: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`NHSMAIL_DB_SCHEMA=${schema}`)) {
        return Number(entry);
      }
    } catch {
      // gone, or not ours
    }
  }
  return undefined;
}

describe('the built relay killed with SIGKILL mid-delivery', () => {
  let nats: TestNats;
  let sink: TestSink;
  let db: Client;
  let connection: NatsConnection;
  const schema = uniqueName('nhsmail_kill');
  const relays: BuiltService[] = [];

  afterAll(async () => {
    for (const relay of relays) await relay.stop();
    await connection?.close();
    await db?.end();
    await sink?.stop();
    await nats?.stop();
    await dropSchema(testDatabaseUrl(), schema);
  });

  it('delivers every message that got a 250 after the restart; only a copy in flight at the kill may go twice', async () => {
    nats = await startTestNats();
    sink = await startTestSink({ delayMs: 15 });
    const tls = testTls();
    const submissionPort = await freePort();
    const env = {
      NATS_URL: nats.url,
      DATABASE_URL: testDatabaseUrl(),
      NHSMAIL_DB_SCHEMA: schema,
      NHSMAIL_SUBMISSION_PORT: String(submissionPort),
      NHSMAIL_RELAY_PORT: String(await freePort()),
      NHSMAIL_TLS_CERT: tls.cert,
      NHSMAIL_TLS_KEY: tls.key,
      NHSMAIL_SMARTHOST_URL: sink.url,
      NHSMAIL_DELIVERY_POLL_MS: '50',
      NHSMAIL_DELIVERY_LEASE_SECONDS: '2',
      NHSMAIL_DELIVERY_CONCURRENCY: '4',
    };
    relays.push(await startBuiltService('apps/nhsmail-relay/src/main.js', 'NHSMAIL_HTTP_PORT', env));
    connection = await connect({ servers: nats.url });
    const client = new NhsmailRelayClient(
      new NatsRpcClient(connection, { timeoutMs: 10_000, signer: await testGatewaySigner() }),
    );
    await client.createMailbox(
      { address: 'alerts.app@nhs.net', kind: 'application', displayName: 'Alerts', password: PASSWORD },
      registryAdmin(),
    );
    db = new Client({ connectionString: testDatabaseUrl() });
    await db.connect();

    // Send until the relay dies: 250s are remembered by Message-ID.
    const accepted: string[] = [];
    const app = submissionClient(submissionPort, { user: 'alerts.app@nhs.net', pass: PASSWORD }, true);
    let killedAt: number | undefined;
    let inFlightAtKill: string[] = [];
    for (let index = 0; index < 400 && killedAt === undefined; index += 1) {
      const messageId = `<${randomUUID()}@nhs.net>`;
      try {
        await app.sendMail({
          from: 'alerts.app@nhs.net',
          to: `user${index}@example.org`,
          subject: `n${index}`,
          text: 'x',
          messageId,
        });
        accepted.push(messageId);
      } catch {
        break;
      }
      if (accepted.length === 80) {
        const pid = pidWithSchema(schema);
        expect(pid).toBeDefined();
        process.kill(pid ?? 0, 'SIGKILL');
        killedAt = Date.now();
        // Dead already: nothing for afterAll to stop.
        relays.pop();
      }
    }
    app.close();
    expect(killedAt).toBeDefined();
    const state = await db.query<{ state: string; leased: boolean; message_id: string }>(
      `SELECT d.state, d.lease_owner IS NOT NULL AS leased, m.message_id
         FROM "${schema}".delivery d JOIN "${schema}".message m ON m.id = d.message`,
    );
    inFlightAtKill = state.rows.filter((row) => row.state === 'pending' && row.leased).map((row) => row.message_id);
    const pendingAtKill = state.rows.filter((row) => row.state === 'pending').length;
    // Killed mid-delivery: some delivered, some still waiting.
    expect(pendingAtKill).toBeGreaterThan(0);
    expect(sink.received.length).toBeGreaterThan(0);

    relays.push(await startBuiltService('apps/nhsmail-relay/src/main.js', 'NHSMAIL_HTTP_PORT', env));
    const seen = (): Map<string, number> => {
      const counts = new Map<string, number>();
      for (const mail of sink.received) {
        const id = /^Message-ID: (<[^>]+>)/im.exec(mail.raw)?.[1] ?? '';
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      return counts;
    };
    const counts = await eventually(
      () => Promise.resolve(seen()),
      (map) => accepted.every((id) => map.has(id)),
      20_000,
    );
    expect(accepted.filter((id) => !counts.has(id))).toEqual([]);
    const twice = accepted.filter((id) => (counts.get(id) ?? 0) > 1);
    // Only a copy claimed (handed to the smarthost, perhaps) when the relay died can have been sent again.
    expect(twice.filter((id) => !inFlightAtKill.includes(id))).toEqual([]);
    expect(twice.length).toBeLessThanOrEqual(inFlightAtKill.length);
    expect([...counts.values()].every((n) => n <= 2)).toBe(true);
  }, 60_000);
});
