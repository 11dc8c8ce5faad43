import type { ServiceNames } from '../names';

/**
 * The service's app, in PDS's shape: main.ts under runProcess, a start function that opens the database
 * with pool timeouts, connects NATS, ensures its stream and bootstraps; the module with the write side and
 * serviceHealth; a validated config class; migrations; one example feature (handler -> use case ->
 * repository) and its integration test against the real PostgreSQL and NATS.
 */
export function appFiles(n: ServiceNames, migrationTimestamp: number): Record<string, string> {
  const dir = n.appDir;
  const P = n.envPrefix;
  return {
    [`${dir}/project.json`]: projectJson(n),
    [`${dir}/README.md`]: readme(n),
    [`${dir}/src/main.ts`]: main(n),
    [`${dir}/src/${n.name}.ts`]: start(n),
    [`${dir}/src/app.module.ts`]: appModule(n),
    [`${dir}/src/config/${n.configModule}.ts`]: config(n),
    [`${dir}/src/database/database.provider.ts`]: databaseProvider(n),
    [`${dir}/src/database/database.ts`]: database(n, migrationTimestamp),
    [`${dir}/src/database/migrations/${migrationTimestamp}-initial-schema.ts`]: migration(n, migrationTimestamp),
    [`${dir}/src/items/item.handler.ts`]: handler(n),
    [`${dir}/src/items/create-item.usecase.ts`]: createUseCase(n),
    [`${dir}/src/items/get-item.usecase.ts`]: getUseCase(n),
    [`${dir}/src/items/item.repository.ts`]: repository(n),
    [`${dir}/src/${n.name}.test-harness.ts`]: harness(n),
    [`${dir}/src/items/items.int-spec.ts`]: intSpec(n, P),
  };
}

function projectJson(n: ServiceNames): string {
  return `${JSON.stringify(
    {
      name: n.name,
      $schema: '../../node_modules/nx/schemas/project-schema.json',
      sourceRoot: `${n.appDir}/src`,
      projectType: 'application',
      tags: [`scope:${n.name}`, 'type:app'],
    },
    null,
    2,
  )}\n`;
}

function readme(n: ServiceNames): string {
  const P = n.envPrefix;
  const rows: [string, string, string][] = [
    ['NATS_URL', '`nats://127.0.0.1:4222`', 'NATS server(s), comma-separated'],
    [
      'DATABASE_URL',
      '`postgres://postgres@127.0.0.1:5432/postgres`',
      "PostgreSQL connection string (`npm start` passes the embedded server's or yours)",
    ],
    [`${P}_DB_SCHEMA`, `\`${n.schema}\``, 'the schema the service owns; created if missing'],
    [`${P}_DB_POOL_SIZE`, '`10`', 'PostgreSQL connections per process (1 to 200)'],
    [
      `${P}_DB_ACQUIRE_TIMEOUT_MS`,
      '`2000`',
      'longest wait for a pool connection, in ms (100 to 60000); past it the request is answered 503 `REC_UNAVAILABLE` with `Retry-After: 2`',
    ],
    [
      `${P}_DB_STATEMENT_TIMEOUT_MS`,
      '`10000`',
      "PostgreSQL's `statement_timeout` for the service's statements, in ms (100 to 600000). Migrations are not bound by it",
    ],
    [`${P}_HTTP_HOST`, '`127.0.0.1`', 'address of the health and metrics listener (`0.0.0.0` in a container)'],
    [`${P}_HTTP_PORT`, `\`${n.port}\``, 'port of `/health/live`, `/health/ready` and `/metrics` (0 picks a free port)'],
    [
      `${P}_IDEMPOTENCY_RETENTION_HOURS`,
      '`72`',
      "how long a write's answer is kept for retries with the same X-Request-ID",
    ],
    [`${P}_OUTBOX_RETENTION_HOURS`, '`168`', 'how long events already relayed to JetStream stay in `outbox`'],
    [
      'CALLER_TRUSTED_KEYS',
      'none',
      'JWK set of the keys whose signed caller statements the service trusts (required; the launcher makes one for a local run)',
    ],
    ['LOG_LEVEL', '`info`', '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`'],
  ];
  const table = rows.map(([name, fallback, meaning]) => `| \`${name}\` | ${fallback} | ${meaning} |`).join('\n');
  return `# ${n.name}

${n.title}: a NestJS NATS microservice that owns the \`${n.schema}\` schema in PostgreSQL. Callers reach it only
through \`${n.contractsAlias}\`; its HTTP API (\`/${n.name}\`) is served by the gateway.

Nx project \`${n.name}\`, tags \`scope:${n.name}\`, \`type:app\`. Entry point \`src/main.ts\`. Created by
\`npm run new-service\` (tools/generator): the \`item\` feature is the generator's example of a write and a
read; replace it with the service's own.

## NATS

Queue group \`${n.name}\`: run as many replicas as you like; each request goes to one.

| subject | serves | request -> reply | errors |
| --- | --- | --- | --- |
| \`${n.subjects.itemCreate}\` | create an item, exactly once per (caller, X-Request-ID) | \`{name, description?}\` -> \`Item\` | \`INVALID_VALUE\` |
| \`${n.subjects.itemGet}\` | read an item | \`{itemId}\` -> \`Item\` | \`${n.notFoundCode}\`, \`INVALID_VALUE\` |
| \`${n.subjects.healthCheck}\` | health over the bus; also the service's own \`nats\` readiness check | \`{}\` -> \`{status: "ok", service: "${n.name}"}\` | \`REC_UNAVAILABLE\` (no database connection) |

Publishes \`${n.events.itemCreated}\` on the \`${n.stream}\` stream through its outbox (ADR 0010); calls no
other service. Details: [docs/messaging.md](../../docs/messaging.md).

Inside: \`items/item.handler.ts\` (runs one use case inside \`withCallContext\`) ->
\`items/create-item.usecase.ts\` (an idempotent write through \`IdempotentWrites\`, its event through the
\`Outbox\` in the same transaction) and \`items/get-item.usecase.ts\` -> \`items/item.repository.ts\` (the only SQL).

## Configuration

Environment variables, read once at start (\`src/config/${n.configModule}.ts\`); a bad value stops the
process naming the variable.

| variable | default | meaning |
| --- | --- | --- |
${table}

## Data owned

Schema \`${n.schema}\`:

- \`item\`: one row per item: id, name, description, version, who created it and when.
- \`idempotent_request\`: the outcome of every write, by caller and X-Request-ID.
- \`outbox\`: events waiting for (or already through) the relay to JetStream.

Migrations are in \`src/database/migrations/\` and run at every start, before the service subscribes.

## Operating it

Health: \`/health/live\` (event loop and database pool), \`/health/ready\` (PostgreSQL answers, and the
\`${n.name}\` queue group answers \`${n.subjects.healthCheck}\`), \`/metrics\`. Runbook: the platform's
[resilience runbook](../../docs/runbooks/resilience.md) covers what every service does when PostgreSQL,
NATS or a replica fails; write \`docs/runbooks/${n.name}.md\` for what is particular to this one.
`;
}

function main(n: ServiceNames): string {
  return `import 'reflect-metadata';
import { loadConfigOrExit } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { runProcess } from '@platform/shared-service';
import { ${n.pascal}Config } from './config/${n.configModule}';
import { start${n.pascal} } from './${n.name}';

const config = loadConfigOrExit(${n.pascal}Config, '${n.name}');
const logger = createLogger({ service: '${n.name}', level: config.LOG_LEVEL });
void runProcess('${n.name}', logger, () => start${n.pascal}(config, logger));
`;
}

function start(n: ServiceNames): string {
  const P = n.envPrefix;
  return `import type { INestApplication } from '@nestjs/common';
import { ${P}_EVENT_STREAM, ${P}_EVENTS, ${P}_QUEUE, ${P}_SUBJECT_POLICIES } from '${n.contractsAlias}';
import type { Logger } from '@platform/shared-logging';
import { callerTrust, connectNats } from '@platform/shared-nats';
import { ensureEventStream } from '@platform/shared-persistence';
import { bootstrapService, createMetricsRegistry } from '@platform/shared-service';
import { ${n.pascal}Module } from './app.module';
import type { ${n.pascal}Config } from './config/${n.configModule}';
import { open${n.pascal}Database } from './database/database';

/** Opens the database (migrated), connects to NATS, makes sure its event stream exists, and starts serving. */
export async function start${n.pascal}(config: ${n.pascal}Config, logger: Logger): Promise<INestApplication> {
  const database = await open${n.pascal}Database({
    url: config.DATABASE_URL,
    schema: config.${P}_DB_SCHEMA,
    poolSize: config.${P}_DB_POOL_SIZE,
    timeouts: {
      acquireMs: config.${P}_DB_ACQUIRE_TIMEOUT_MS,
      statementMs: config.${P}_DB_STATEMENT_TIMEOUT_MS,
      idleInTransactionMs: 30_000,
    },
  });
  const trust = await callerTrust({ issuer: '${n.name}', trustedKeys: config.CALLER_TRUSTED_KEYS });
  const nats = await connectNats({ url: config.NATS_URL, name: \`${n.name}-\${process.pid}\` });
  await ensureEventStream(nats, ${P}_EVENT_STREAM, Object.values(${P}_EVENTS));
  return bootstrapService({
    name: ${P}_QUEUE,
    module: ${n.pascal}Module.with({
      database,
      nats,
      metrics: createMetricsRegistry('${n.name}'),
      logger,
      retention: {
        idempotencyHours: config.${P}_IDEMPOTENCY_RETENTION_HOURS,
        publishedEventHours: config.${P}_OUTBOX_RETENTION_HOURS,
      },
    }),
    natsUrl: config.NATS_URL,
    httpPort: config.${P}_HTTP_PORT,
    httpHost: config.${P}_HTTP_HOST,
    logger,
    callers: { verifier: trust.verifier, policies: ${P}_SUBJECT_POLICIES },
  });
}
`;
}

function appModule(n: ServiceNames): string {
  const P = n.envPrefix;
  return `import { Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { ${n.pascal}Client, ${P}_SUBJECTS } from '${n.contractsAlias}';
import type { Logger } from '@platform/shared-logging';
import { NatsRpcClient } from '@platform/shared-nats';
import { shutdownHook, writeSide, writeSideProviders, type Retention } from '@platform/shared-persistence';
import { HealthController, METRICS_REGISTRY, serviceHealth } from '@platform/shared-service';
import { ${n.constant}_DATABASE, type ${n.pascal}Database } from './database/database.provider';
import { CreateItemUseCase } from './items/create-item.usecase';
import { GetItemUseCase } from './items/get-item.usecase';
import { ItemHandler } from './items/item.handler';
import { ItemRepository } from './items/item.repository';

export interface ${n.pascal}Resources {
  database: ${n.pascal}Database;
  nats: NatsConnection;
  metrics: Registry;
  logger: Logger;
  retention: Retention;
}

@Module({})
export class ${n.pascal}Module {
  /** The service wired to resources opened (and migrated) before Nest starts. */
  static with(resources: ${n.pascal}Resources): DynamicModule {
    const self = new ${n.pascal}Client(new NatsRpcClient(resources.nats, { timeoutMs: 1500 }));
    const health = serviceHealth({
      service: '${n.name}',
      subject: ${P}_SUBJECTS.healthCheck,
      pool: resources.database.pool,
      self: (context) => self.health(context),
    });
    const side = writeSide(resources, '${n.name}');
    return {
      module: ${n.pascal}Module,
      controllers: [ItemHandler, HealthController, health.handler],
      providers: [
        { provide: ${n.constant}_DATABASE, useValue: resources.database },
        ...health.providers,
        { provide: METRICS_REGISTRY, useValue: resources.metrics },
        // On shutdown: the write side stops (the outbox relays its last pass), then NATS and the database close.
        { provide: '${n.constant}_SHUTDOWN', useValue: shutdownHook(() => side.close()) },
        ...writeSideProviders(side),
        ItemRepository,
        CreateItemUseCase,
        GetItemUseCase,
      ],
    };
  }
}
`;
}

function config(n: ServiceNames): string {
  const P = n.envPrefix;
  return `import { IsIn, IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { CallerTrustConfig } from '@platform/shared-config';

/** ${n.title} configuration, from environment variables of the same names (and the caller-trust keys). */
export class ${n.pascal}Config extends CallerTrustConfig {
  @Matches(/^nats:\\/\\/\\S+$/, { message: 'NATS_URL must look like nats://host:port' })
  NATS_URL = 'nats://127.0.0.1:4222';

  @Matches(/^postgres(ql)?:\\/\\/\\S+$/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: '${P}_DB_SCHEMA must be a lower-case SQL identifier' })
  ${P}_DB_SCHEMA = '${n.schema}';

  @IsInt()
  @Min(1)
  @Max(200)
  ${P}_DB_POOL_SIZE = 10;

  /** Longest wait for a database connection before a request is answered 503 (Retry-After) instead. */
  @IsInt()
  @Min(100)
  @Max(60000)
  ${P}_DB_ACQUIRE_TIMEOUT_MS = 2000;

  /** PostgreSQL's statement_timeout for the service's statements (migrations are not bound by it). */
  @IsInt()
  @Min(100)
  @Max(600000)
  ${P}_DB_STATEMENT_TIMEOUT_MS = 10000;

  @IsInt()
  @Min(0)
  @Max(65535)
  ${P}_HTTP_PORT = ${n.port};

  @IsString()
  ${P}_HTTP_HOST = '127.0.0.1';

  /** How long a write's answer is kept for retries with the same X-Request-ID. */
  @IsInt()
  @Min(1)
  @Max(24 * 365)
  ${P}_IDEMPOTENCY_RETENTION_HOURS = 72;

  /** How long events already relayed to JetStream stay in the outbox table. */
  @IsInt()
  @Min(1)
  @Max(24 * 365)
  ${P}_OUTBOX_RETENTION_HOURS = 168;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';
}
`;
}

function databaseProvider(n: ServiceNames): string {
  return `import type { ServiceDatabase } from '@platform/shared-persistence';

export const ${n.constant}_DATABASE = Symbol('${n.constant}_DATABASE');

export type ${n.pascal}Database = ServiceDatabase;
`;
}

function database(n: ServiceNames, timestamp: number): string {
  return `import { openServiceDatabase, type PoolTimeouts } from '@platform/shared-persistence';
import type { ${n.pascal}Database } from './database.provider';
import { InitialSchema${timestamp} } from './migrations/${timestamp}-initial-schema';

export const MIGRATIONS = [InitialSchema${timestamp}];

/** Connects to the service's schema and runs its pending migrations. */
export function open${n.pascal}Database(settings: {
  url: string;
  schema: string;
  poolSize: number;
  timeouts?: PoolTimeouts;
}): Promise<${n.pascal}Database> {
  return openServiceDatabase({ ...settings, migrations: MIGRATIONS, applicationName: '${n.name}' });
}
`;
}

function migration(n: ServiceNames, timestamp: number): string {
  return `import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createWriteTables, dropWriteTables, migrationSchema } from '@platform/shared-persistence';

/**
 * The example items, and the write tables every service that takes writes keeps: the answer to every write,
 * keyed by caller and X-Request-ID, and the transactional outbox from which events reach JetStream.
 */
export class InitialSchema${timestamp} implements MigrationInterface {
  name = 'InitialSchema${timestamp}';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, '${n.schema}');
    await queryRunner.query(\`
      CREATE TABLE \${schema}.item (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        description text,
        version integer NOT NULL DEFAULT 1,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )\`);
    await createWriteTables(queryRunner, schema);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, '${n.schema}');
    await dropWriteTables(queryRunner, schema);
    await queryRunner.query(\`DROP TABLE \${schema}.item\`);
  }
}
`;
}

function handler(n: ServiceNames): string {
  const P = n.envPrefix;
  return `import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { CreateItemRequest, GetItemRequest, ${P}_SUBJECTS, type Item } from '${n.contractsAlias}';
import { withCallContext } from '@platform/shared-nats';
import { CreateItemUseCase } from './create-item.usecase';
import { GetItemUseCase } from './get-item.usecase';

@Controller()
export class ItemHandler {
  constructor(
    private readonly createItem: CreateItemUseCase,
    private readonly getItem: GetItemUseCase,
  ) {}

  @MessagePattern(${P}_SUBJECTS.itemCreate)
  create(@Payload() request: CreateItemRequest, @Ctx() nats: NatsContext): Promise<Item> {
    return withCallContext(nats, (call) => this.createItem.execute(request, call));
  }

  @MessagePattern(${P}_SUBJECTS.itemGet)
  get(@Payload() request: GetItemRequest, @Ctx() nats: NatsContext): Promise<Item> {
    return withCallContext(nats, () => this.getItem.execute(request.itemId));
  }
}
`;
}

function createUseCase(n: ServiceNames): string {
  const P = n.envPrefix;
  return `import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ${P}_EVENTS, type CreateItemRequest, type Item, type ItemCreatedEvent } from '${n.contractsAlias}';
import type { CallContext } from '@platform/shared-nats';
import { IdempotentWrites, Outbox, writeKey } from '@platform/shared-persistence';
import { ItemRepository } from './item.repository';

/**
 * Creates an item and queues \`${n.events.itemCreated}\` in the same transaction. Exactly once per (caller,
 * X-Request-ID): a retry, even one that arrives while the first is running, gets the first answer.
 */
@Injectable()
export class CreateItemUseCase {
  constructor(
    private readonly items: ItemRepository,
    private readonly writes: IdempotentWrites,
    private readonly outbox: Outbox,
  ) {}

  async execute(request: CreateItemRequest, context: CallContext): Promise<Item> {
    const key = writeKey(context, 'item.create', request);
    const item = await this.writes.run(key, async (transaction) => {
      const created = await this.items.insert(transaction, {
        id: randomUUID(),
        name: request.name,
        description: request.description ?? null,
        createdBy: key.callerId,
      });
      const event: ItemCreatedEvent = { itemId: created.id, version: created.version, occurredAt: created.createdAt };
      await this.outbox.append(transaction, ${P}_EVENTS.itemCreated, event, context);
      return created;
    });
    this.outbox.kick();
    return item;
  }
}
`;
}

function getUseCase(n: ServiceNames): string {
  return `import { Injectable } from '@nestjs/common';
import type { Item } from '${n.contractsAlias}';
import { PlatformError } from '@platform/shared-errors';
import { ItemRepository } from './item.repository';

/** One item by its ID (${n.notFoundCode} when there is none). */
@Injectable()
export class GetItemUseCase {
  constructor(private readonly items: ItemRepository) {}

  async execute(itemId: string): Promise<Item> {
    const item = await this.items.find(itemId);
    if (!item) throw new PlatformError('${n.notFoundCode}', undefined, { diagnostics: \`No item \${itemId}\` });
    return item;
  }
}
`;
}

function repository(n: ServiceNames): string {
  return `import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import type { Item } from '${n.contractsAlias}';
import { ${n.constant}_DATABASE, type ${n.pascal}Database } from '../database/database.provider';

interface ItemRow {
  id: string;
  name: string;
  description: string | null;
  version: number;
  created_at: Date;
}

const COLUMNS = 'id, name, description, version, created_at';

function toItem(row: ItemRow): Item {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    version: row.version,
    createdAt: row.created_at.toISOString(),
  };
}

/** The only code that reads and writes items. */
@Injectable()
export class ItemRepository {
  private readonly pool: Pool;
  private readonly table: string;

  constructor(@Inject(${n.constant}_DATABASE) database: ${n.pascal}Database) {
    this.pool = database.pool;
    this.table = \`"\${database.schema}".item\`;
  }

  /** Inside the write's transaction (IdempotentWrites gives it). */
  async insert(
    transaction: PoolClient,
    item: { id: string; name: string; description: string | null; createdBy: string },
  ): Promise<Item> {
    const result = await transaction.query<ItemRow>(
      \`INSERT INTO \${this.table} (id, name, description, created_by) VALUES ($1, $2, $3, $4) RETURNING \${COLUMNS}\`,
      [item.id, item.name, item.description, item.createdBy],
    );
    return toItem(result.rows[0]);
  }

  async find(id: string): Promise<Item | undefined> {
    const result = await this.pool.query<ItemRow>(\`SELECT \${COLUMNS} FROM \${this.table} WHERE id = $1\`, [id]);
    const row = result.rows[0];
    return row ? toItem(row) : undefined;
  }
}
`;
}

function harness(n: ServiceNames): string {
  const P = n.envPrefix;
  return `import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { ${n.pascal}Client } from '${n.contractsAlias}';
import { loadConfig } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { NatsRpcClient } from '@platform/shared-nats';
import { startServiceUnderTest, type ServiceUnderTest } from '@platform/shared-testing';
import { testCallerEnvironment, testGatewaySigner } from '@platform/testing-services';
import { ${n.pascal}Config } from './config/${n.configModule}';
import { start${n.pascal} } from './${n.name}';

/** A running ${n.name} for one integration test file: its own schema, its own NATS server, a typed client. */
export interface ${n.pascal}UnderTest extends ServiceUnderTest<INestApplication> {
  /** The typed client, over NATS, as other projects call ${n.name}. */
  client: ${n.pascal}Client;
}

export async function start${n.pascal}UnderTest(options: { schemaPrefix: string }): Promise<${n.pascal}UnderTest> {
  const callerEnv = await testCallerEnvironment('${n.name}');
  const running = await startServiceUnderTest(options.schemaPrefix, ({ natsUrl, databaseUrl, schema }) =>
    start${n.pascal}(
      loadConfig(${n.pascal}Config, {
        ...callerEnv,
        NATS_URL: natsUrl,
        DATABASE_URL: databaseUrl,
        ${P}_DB_SCHEMA: schema,
        ${P}_HTTP_PORT: '0',
      }),
      createLogger({ service: '${n.name}', level: 'silent' }),
    ),
  );
  // Signs as the gateway does, so the service's own caller checks let the test's requests in.
  const signer = await testGatewaySigner();
  return { ...running, client: new ${n.pascal}Client(new NatsRpcClient(running.connection, { timeoutMs: 5000, signer })) };
}
`;
}

function intSpec(n: ServiceNames, P: string): string {
  return `import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Client } from 'pg';
import { ${P}_EVENT_STREAM, ${P}_EVENTS, type ${n.pascal}Client } from '${n.contractsAlias}';
import type { CallContext } from '@platform/shared-nats';
import { allAtOnce, outcomes, rejectionOf } from '@platform/shared-testing';
import { start${n.pascal}UnderTest, type ${n.pascal}UnderTest } from '../${n.name}.test-harness';

function context(requestId: string = randomUUID(), caller = 'user-1'): CallContext {
  return { requestId, caller: { id: caller, roles: ['ops'] } };
}

describe('${n.name} items over NATS against PostgreSQL', () => {
  let under: ${n.pascal}UnderTest;
  let client: ${n.pascal}Client;
  let db: Client;
  let schema: string;
  let app: INestApplication;
  let connection: NatsConnection;

  const count = async (name: string): Promise<number> =>
    (await db.query<{ n: number }>(\`SELECT count(*)::int AS n FROM "\${schema}".item WHERE name = $1\`, [name])).rows[0]
      .n;

  beforeAll(async () => {
    under = await start${n.pascal}UnderTest({ schemaPrefix: '${n.schema}_it' });
    ({ client, db, schema, app, connection } = under);
  });

  afterAll(async () => {
    await under?.stop();
  });

  it('is ready: PostgreSQL answers and its queue group answers its health subject', async () => {
    const response = await fetch(\`\${await app.getUrl()}/health/ready\`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', checks: { postgres: 'up', nats: 'up' } });
    await expect(client.health(context())).resolves.toEqual({ status: 'ok', service: '${n.name}' });
  });

  it('creates an item, reads it back, and publishes ${n.events.itemCreated} to ${n.stream}', async () => {
    const created = await client.createItem({ name: 'first', description: 'the first item' }, context());
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'first',
      description: 'the first item',
      version: 1,
      createdAt: expect.any(String),
    });
    await expect(client.getItem({ itemId: created.id }, context())).resolves.toEqual(created);
    const jetstream = await connection.jetstreamManager();
    let published: { subject: string; data: unknown } | undefined;
    for (let attempt = 0; attempt < 50 && !published; attempt += 1) {
      try {
        const message = await jetstream.streams.getMessage(${P}_EVENT_STREAM, {
          last_by_subj: ${P}_EVENTS.itemCreated,
        });
        published = { subject: message.subject, data: message.json() };
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    expect(published).toEqual({
      subject: ${P}_EVENTS.itemCreated,
      data: { itemId: created.id, version: 1, occurredAt: created.createdAt },
    });
  });

  it('answers ${n.notFoundCode} for an unknown item, and INVALID_VALUE for an ID that is not a UUID', async () => {
    expect((await rejectionOf(client.getItem({ itemId: randomUUID() }, context()))).code).toBe('${n.notFoundCode}');
    expect((await rejectionOf(client.getItem({ itemId: 'not-a-uuid' }, context()))).code).toBe('INVALID_VALUE');
    expect((await rejectionOf(client.createItem({ name: '' }, context()))).code).toBe('INVALID_VALUE');
  });

  it('creates once for a retried request, and refuses the same X-Request-ID for another request', async () => {
    const retry = context();
    const first = await client.createItem({ name: 'retried' }, retry);
    const second = await client.createItem({ name: 'retried' }, retry);
    expect(second).toEqual(first);
    expect(await count('retried')).toBe(1);
    expect((await rejectionOf(client.createItem({ name: 'another' }, retry))).code).toBe('INVALID_VALUE');
    expect(await count('another')).toBe(0);
    // Another caller's request with the same ID is its own write.
    const other = await client.createItem({ name: 'retried' }, context(retry.requestId, 'user-2'));
    expect(other.id).not.toBe(first.id);
  });

  it('under concurrency: 30 retries of one write at once create one item; 30 different writes create 30', async () => {
    const retry = context();
    const same = outcomes(await allAtOnce(30, 10_000, () => client.createItem({ name: 'raced' }, retry)));
    expect(same.filter((item) => typeof item === 'string')).toEqual([]);
    expect(new Set(same.map((item) => (typeof item === 'string' ? item : item.id))).size).toBe(1);
    expect(await count('raced')).toBe(1);
    const different = outcomes(
      await allAtOnce(30, 10_000, (index) => client.createItem({ name: \`many-\${index}\` }, context())),
    );
    expect(different.filter((item) => typeof item === 'string')).toEqual([]);
    expect(new Set(different.map((item) => (typeof item === 'string' ? item : item.id))).size).toBe(30);
    const rows = await db.query<{ n: number }>(
      \`SELECT count(*)::int AS n FROM "\${schema}".item WHERE name LIKE 'many-%'\`,
    );
    expect(rows.rows[0].n).toBe(30);
  });
});
`;
}
