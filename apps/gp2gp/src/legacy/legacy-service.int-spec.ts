import 'reflect-metadata';
import { createHash, randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Gp2gpLegacyClient } from '@platform/contracts-gp2gp';
import { loadConfig } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { NatsRpcClient, type CallContext } from '@platform/shared-nats';
import { startServiceUnderTest, type ServiceUnderTest } from '@platform/shared-testing';
import { testCallerEnvironment, testGatewaySigner } from '@platform/testing-services';
import { Gp2gpConfig } from '../config/gp2gp.config';
import { startGp2gp } from '../gp2gp';
import { fixture, REQUESTING_ODS, SENDING_ODS } from './legacy-fixtures.test-harness';

const as = (organisation: string): CallContext => ({
  requestId: randomUUID(),
  caller: { id: `user-${organisation}`, roles: ['practice-admin'], organisation },
});

/** The whole gp2gp service as it starts in production (its module, migrations, policies) serves the legacy path. */
describe('gp2gp serves legacy practices (the service as started by main.ts)', () => {
  let under: ServiceUnderTest<INestApplication>;
  let client: Gp2gpLegacyClient;

  beforeAll(async () => {
    const callerEnv = await testCallerEnvironment('gp2gp');
    under = await startServiceUnderTest('gp2gp_legacy_svc', ({ natsUrl, databaseUrl, schema }) =>
      startGp2gp(
        loadConfig(Gp2gpConfig, {
          ...callerEnv,
          NATS_URL: natsUrl,
          DATABASE_URL: databaseUrl,
          GP2GP_DB_SCHEMA: schema,
          GP2GP_HTTP_PORT: '0',
        }),
        createLogger({ service: 'gp2gp', level: 'silent' }),
      ),
    );
    client = new Gp2gpLegacyClient(
      new NatsRpcClient(under.connection, { timeoutMs: 30_000, signer: await testGatewaySigner() }),
    );
  });

  afterAll(async () => {
    await under?.stop();
  });

  it('takes Scenario 4 from the legacy practice and gives the requesting practice the record and its attachment', async () => {
    const conversationId = randomUUID();
    await client.open({ conversationId, sendingOds: SENDING_ODS }, as(REQUESTING_ODS));
    const states = [];
    for (const file of ['copc1.json', 'copc_index.json', 'uk06.json', 'copc0.json']) {
      const message = fixture(conversationId, 'Scenario_4', file);
      states.push((await client.deliver({ conversationId, message }, as(SENDING_ODS))).state);
    }
    expect(states.at(-1)).toBe('MIGRATION_COMPLETED');
    const poll = await client.poll({ conversationId }, as(REQUESTING_ODS));
    const bundle = JSON.parse(poll.bundleJson as string) as { entry: { resource: { resourceType: string } }[] };
    expect(bundle.entry.map((entry) => entry.resource.resourceType)).toEqual(['Binary', 'DocumentReference']);
    const chunks: Buffer[] = [];
    let cursor: string | undefined;
    do {
      const piece = await client.readAttachment(
        { conversationId, position: 0, ...(cursor ? { cursor } : {}) },
        as(REQUESTING_ODS),
      );
      chunks.push(Buffer.from(piece.data, 'base64'));
      cursor = piece.cursor;
    } while (cursor);
    const bytes = Buffer.concat(chunks);
    expect(bytes.length).toBe(1_271_430);
    const carried = ['copc0.json', 'copc1.json']
      .map((file) => (fixture(conversationId, 'Scenario_4', file)['attachments'] as { payload: string }[])[0].payload)
      .join('');
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(
      createHash('sha256').update(Buffer.from(carried, 'base64')).digest('hex'),
    );
  });
});
