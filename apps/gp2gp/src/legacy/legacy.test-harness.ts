import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import {
  GP2GP_EVENT_STREAM,
  GP2GP_EVENTS,
  GP2GP_LEGACY_SUBJECT_POLICIES,
  Gp2gpLegacyClient,
} from '@platform/contracts-gp2gp';
import { createLogger } from '@platform/shared-logging';
import { callerTrust, connectNats, NatsRpcClient } from '@platform/shared-nats';
import {
  ensureEventStream,
  openServiceDatabase,
  writeSide,
  writeSideProviders,
  type ServiceDatabase,
  type WriteSide,
} from '@platform/shared-persistence';
import { bootstrapService } from '@platform/shared-service';
import { startServiceUnderTest, type Closable, type ServiceUnderTest } from '@platform/shared-testing';
import { testCallerEnvironment, testGatewaySigner } from '@platform/testing-services';
import { MIGRATIONS } from '../database/database';
import { FragmentStore } from '../transfers/fragment-store';
import { LegacyHandler } from './legacy.handler';
import { legacyProviders } from './legacy.providers';

@Module({})
class LegacyUnderTestModule {
  static with(resources: { database: ServiceDatabase; store: FragmentStore; side: WriteSide }): DynamicModule {
    return {
      module: LegacyUnderTestModule,
      controllers: [LegacyHandler],
      providers: [...writeSideProviders(resources.side), ...legacyProviders(resources)],
    };
  }
}

export interface LegacyUnderTest extends ServiceUnderTest<Closable> {
  client: Gp2gpLegacyClient;
  /** The replicas serving now (two at the start), each with its own pool, NATS connection and object store handle. */
  replicas: Closable[];
  /** Starts another replica on the same schema and NATS server. */
  addReplica(): Promise<Closable>;
}

interface Settings {
  natsUrl: string;
  databaseUrl: string;
  schema: string;
}

async function startReplica(settings: Settings, trustedKeys: string): Promise<Closable> {
  const database = await openServiceDatabase({
    url: settings.databaseUrl,
    schema: settings.schema,
    poolSize: 8,
    migrations: MIGRATIONS,
    applicationName: 'gp2gp legacy test',
    timeouts: { acquireMs: 10_000, statementMs: 20_000, idleInTransactionMs: 30_000 },
  });
  const nats = await connectNats({ url: settings.natsUrl, name: 'gp2gp-legacy-test' });
  await ensureEventStream(nats, GP2GP_EVENT_STREAM, Object.values(GP2GP_EVENTS));
  const trust = await callerTrust({ issuer: 'gp2gp', trustedKeys });
  const logger = createLogger({ service: 'gp2gp', level: 'silent' });
  const side = writeSide(
    { database, nats, logger, retention: { idempotencyHours: 72, publishedEventHours: 168 } },
    'gp2gp',
  );
  const app = await bootstrapService({
    name: 'gp2gp',
    module: LegacyUnderTestModule.with({ database, store: await FragmentStore.open(nats, 0), side }),
    natsUrl: settings.natsUrl,
    httpPort: 0,
    httpHost: '127.0.0.1',
    logger,
    callers: { verifier: trust.verifier, policies: GP2GP_LEGACY_SUBJECT_POLICIES },
  });
  let closed = false;
  return {
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
      // The outbox stops, NATS drains, the database closes.
      await side.close();
    },
  };
}

/**
 * gp2gp's legacy path as the service runs it (its handler and providers, the caller guard with gp2gp's
 * policies, its migration in a schema of its own, a NATS server with JetStream of its own), in two replicas
 * sharing the queue group, without the FHIR transfer path, so that these tests exercise the legacy path alone.
 */
export async function startLegacyUnderTest(): Promise<LegacyUnderTest> {
  const trustedKeys = (await testCallerEnvironment('gp2gp'))['CALLER_TRUSTED_KEYS'];
  const replicas: Closable[] = [];
  let settings: Settings | undefined;
  const running = await startServiceUnderTest('gp2gp_legacy_it', async (given) => {
    settings = given;
    replicas.push(await startReplica(given, trustedKeys), await startReplica(given, trustedKeys));
    return { close: async () => void (await Promise.all(replicas.map((replica) => replica.close()))) };
  });
  const signer = await testGatewaySigner();
  return {
    ...running,
    client: new Gp2gpLegacyClient(new NatsRpcClient(running.connection, { timeoutMs: 30_000, signer })),
    replicas,
    addReplica: async () => {
      const replica = await startReplica(settings as Settings, trustedKeys);
      replicas.push(replica);
      return replica;
    },
  };
}
