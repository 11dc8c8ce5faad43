import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { GP2GP_LEGACY_SUBJECT_POLICIES, Gp2gpLegacyClient } from '@platform/contracts-gp2gp';
import { createLogger } from '@platform/shared-logging';
import { callerTrust, connectNats, NatsRpcClient } from '@platform/shared-nats';
import { openServiceDatabase, type ServiceDatabase } from '@platform/shared-persistence';
import { bootstrapService } from '@platform/shared-service';
import { startServiceUnderTest, type Closable, type ServiceUnderTest } from '@platform/shared-testing';
import { testCallerEnvironment, testGatewaySigner } from '@platform/testing-services';
import { LegacyTransfers1796600000000 } from '../database/migrations/1796600000000-legacy-transfers';
import { FragmentStore } from '../transfers/fragment-store';
import { LegacyHandler } from './legacy.handler';
import { legacyProviders } from './legacy.providers';

@Module({})
class LegacyUnderTestModule {
  static with(resources: { database: ServiceDatabase; store: FragmentStore }): DynamicModule {
    return { module: LegacyUnderTestModule, controllers: [LegacyHandler], providers: legacyProviders(resources) };
  }
}

export interface LegacyUnderTest extends ServiceUnderTest<Closable> {
  client: Gp2gpLegacyClient;
}

/**
 * gp2gp's legacy path as the service runs it (its handler and providers, the caller guard with gp2gp's
 * policies, its migration in a schema of its own, a NATS server with JetStream of its own), without the FHIR
 * transfer path, so that these tests exercise the legacy path alone.
 */
export async function startLegacyUnderTest(): Promise<LegacyUnderTest> {
  const env = await testCallerEnvironment('gp2gp');
  const running = await startServiceUnderTest('gp2gp_legacy_it', async ({ natsUrl, databaseUrl, schema }) => {
    const database = await openServiceDatabase({
      url: databaseUrl,
      schema,
      poolSize: 10,
      migrations: [LegacyTransfers1796600000000],
      applicationName: 'gp2gp legacy test',
      timeouts: { acquireMs: 10_000, statementMs: 20_000, idleInTransactionMs: 30_000 },
    });
    const nats = await connectNats({ url: natsUrl, name: 'gp2gp-legacy-test' });
    const trust = await callerTrust({ issuer: 'gp2gp', trustedKeys: env['CALLER_TRUSTED_KEYS'] });
    const logger = createLogger({ service: 'gp2gp', level: 'silent' });
    const app = await bootstrapService({
      name: 'gp2gp',
      module: LegacyUnderTestModule.with({ database, store: await FragmentStore.open(nats, 0) }),
      natsUrl,
      httpPort: 0,
      httpHost: '127.0.0.1',
      logger,
      callers: { verifier: trust.verifier, policies: GP2GP_LEGACY_SUBJECT_POLICIES },
    });
    const closable: Closable = {
      close: async () => {
        await app.close();
        await nats.close();
        await database.dataSource.destroy();
      },
    };
    return closable;
  });
  const signer = await testGatewaySigner();
  return {
    ...running,
    client: new Gp2gpLegacyClient(new NatsRpcClient(running.connection, { timeoutMs: 30_000, signer })),
  };
}
