import { Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { N3Client, N3_SUBJECTS } from '@platform/contracts-n3';
import type { Logger } from '@platform/shared-logging';
import { NatsRpcClient } from '@platform/shared-nats';
import {
  shutdownHook,
  writeSide,
  writeSideProviders,
  type Retention,
  type ServiceDatabase,
} from '@platform/shared-persistence';
import { HealthController, METRICS_REGISTRY, serviceHealth } from '@platform/shared-service';
import { AllocateBlockUseCase } from './connections/allocate-block.usecase';
import { ConnectionEvents } from './connections/connection-events';
import { ConnectionHistoryRepository } from './connections/connection-history.repository';
import { ConnectionHistoryUseCase } from './connections/connection-history.usecase';
import { ConnectionRepository } from './connections/connection.repository';
import { ConnectionsHandler } from './connections/connections.handler';
import { CreateConnectionUseCase } from './connections/create-connection.usecase';
import { CreateSiteUseCase } from './connections/create-site.usecase';
import { FindIpOwnerUseCase } from './connections/find-ip-owner.usecase';
import { GetConnectionUseCase } from './connections/get-connection.usecase';
import { IpAllocationRepository } from './connections/ip-allocation.repository';
import { ListConnectionsUseCase } from './connections/list-connections.usecase';
import { ListSitesUseCase } from './connections/list-sites.usecase';
import { OrganisationChecks } from './connections/organisation-checks';
import { ReleaseBlockUseCase } from './connections/release-block.usecase';
import { SiteRepository } from './connections/site.repository';
import { TransitionConnectionUseCase } from './connections/transition-connection.usecase';
import { N3_DATABASE } from './database/database';
import { GetOrganisationUseCase } from './organisations/get-organisation.usecase';
import { ImportOrganisationsUseCase, N3_NATS } from './organisations/import-organisations.usecase';
import { OrganisationsHandler } from './organisations/organisations.handler';
import { SearchOrganisationsUseCase } from './organisations/search-organisations.usecase';
import { UpsertOrganisationUseCase } from './organisations/upsert-organisation.usecase';
import { OrganisationRepository } from './shared/organisation.repository';
import { OwnerIndex } from './shared/owner-index';

export interface N3Resources {
  database: ServiceDatabase;
  nats: NatsConnection;
  metrics: Registry;
  logger: Logger;
  retention: Retention;
  /** Loaded before the service starts answering. */
  owners: OwnerIndex;
}

@Module({})
export class N3RegistryModule {
  /** The service wired to resources opened (and migrated) before Nest starts. */
  static with(resources: N3Resources): DynamicModule {
    const self = new N3Client(new NatsRpcClient(resources.nats, { timeoutMs: 1500 }));
    const health = serviceHealth({
      service: 'n3-registry',
      subject: N3_SUBJECTS.healthCheck,
      pool: resources.database.pool,
      self: (context) => self.health(context),
    });
    const side = writeSide(resources, 'n3');
    return {
      module: N3RegistryModule,
      controllers: [OrganisationsHandler, ConnectionsHandler, HealthController, health.handler],
      providers: [
        { provide: N3_DATABASE, useValue: resources.database },
        { provide: N3_NATS, useValue: resources.nats },
        { provide: OwnerIndex, useValue: resources.owners },
        ...health.providers,
        { provide: METRICS_REGISTRY, useValue: resources.metrics },
        ...writeSideProviders(side),
        // On shutdown: the owner table stops following events, then the write side closes.
        {
          provide: 'N3_SHUTDOWN',
          useValue: shutdownHook(() => side.close(() => Promise.resolve(resources.owners.stop()))),
        },
        // Repositories
        OrganisationRepository,
        SiteRepository,
        ConnectionRepository,
        ConnectionHistoryRepository,
        IpAllocationRepository,
        // Collaborators shared by use cases
        OrganisationChecks,
        ConnectionEvents,
        // One use case per subject
        GetOrganisationUseCase,
        SearchOrganisationsUseCase,
        UpsertOrganisationUseCase,
        ImportOrganisationsUseCase,
        CreateSiteUseCase,
        ListSitesUseCase,
        CreateConnectionUseCase,
        GetConnectionUseCase,
        ListConnectionsUseCase,
        TransitionConnectionUseCase,
        ConnectionHistoryUseCase,
        AllocateBlockUseCase,
        ReleaseBlockUseCase,
        FindIpOwnerUseCase,
      ],
    };
  }
}
