import { Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { N3Client } from '@platform/contracts-n3';
import type { Logger } from '@platform/shared-logging';
import { NatsRpcClient } from '@platform/shared-nats';
import {
  Housekeeping,
  IdempotentWrites,
  Outbox,
  type Retention,
  type ServiceDatabase,
} from '@platform/shared-persistence';
import { HealthController, METRICS_REGISTRY, READINESS_CHECKS, type ReadinessCheck } from '@platform/shared-service';
import { ConnectionRepository } from './connections/connection.repository';
import { ConnectionsHandler } from './connections/connections.handler';
import { ConnectionsUseCase } from './connections/connections.usecase';
import { OwnerIndex } from './connections/owner-index';
import { N3_DATABASE } from './database/database';
import { OrganisationRepository } from './organisations/organisation.repository';
import { OrganisationsHandler } from './organisations/organisations.handler';
import { N3_NATS, OrganisationsUseCase } from './organisations/organisations.usecase';

export interface N3Resources {
  database: ServiceDatabase;
  nats: NatsConnection;
  metrics: Registry;
  logger: Logger;
  retention: Retention;
  /** Loaded before the service starts answering. */
  owners: OwnerIndex;
}

/** Closes what the service opened, after the outbox relay has stopped. */
class ResourceCloser implements OnApplicationShutdown {
  constructor(
    private readonly resources: N3Resources,
    private readonly outbox: Outbox,
    private readonly housekeeping: Housekeeping,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    this.resources.owners.stop();
    this.housekeeping.stop();
    await this.outbox.stop();
    await this.resources.nats.drain().catch(() => undefined);
    await this.resources.database.dataSource.destroy();
  }
}

@Module({})
export class N3RegistryModule {
  /** The service wired to resources opened (and migrated) before Nest starts. */
  static with(resources: N3Resources): DynamicModule {
    const self = new N3Client(new NatsRpcClient(resources.nats, { timeoutMs: 1500 }));
    const checks: ReadinessCheck[] = [
      { name: 'postgres', check: async () => void (await resources.database.pool.query('SELECT 1')) },
      { name: 'nats', check: async () => void (await self.health({ requestId: 'readiness-probe' })) },
    ];
    const outbox = new Outbox(resources.database, resources.nats, resources.logger, 'n3');
    const housekeeping = new Housekeeping(resources.database, resources.retention, resources.logger);
    return {
      module: N3RegistryModule,
      controllers: [OrganisationsHandler, ConnectionsHandler, HealthController],
      providers: [
        { provide: N3_DATABASE, useValue: resources.database },
        { provide: N3_NATS, useValue: resources.nats },
        { provide: OwnerIndex, useValue: resources.owners },
        { provide: READINESS_CHECKS, useValue: checks },
        { provide: METRICS_REGISTRY, useValue: resources.metrics },
        { provide: IdempotentWrites, useValue: new IdempotentWrites(resources.database) },
        { provide: Outbox, useValue: outbox },
        { provide: Housekeeping, useValue: housekeeping },
        { provide: ResourceCloser, useValue: new ResourceCloser(resources, outbox, housekeeping) },
        OrganisationRepository,
        ConnectionRepository,
        OrganisationsUseCase,
        ConnectionsUseCase,
      ],
    };
  }
}
