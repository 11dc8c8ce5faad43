import { Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { Gp2gpClient, GP2GP_SUBJECTS } from '@platform/contracts-gp2gp';
import type { Logger } from '@platform/shared-logging';
import { NatsRpcClient } from '@platform/shared-nats';
import { shutdownHook, writeSide, writeSideProviders, type Retention } from '@platform/shared-persistence';
import { HealthController, METRICS_REGISTRY, serviceHealth } from '@platform/shared-service';
import { GP2GP_DATABASE, type Gp2gpDatabase } from './database/database.provider';
import { CreateItemUseCase } from './items/create-item.usecase';
import { GetItemUseCase } from './items/get-item.usecase';
import { ItemHandler } from './items/item.handler';
import { ItemRepository } from './items/item.repository';

export interface Gp2gpResources {
  database: Gp2gpDatabase;
  nats: NatsConnection;
  metrics: Registry;
  logger: Logger;
  retention: Retention;
}

@Module({})
export class Gp2gpModule {
  /** The service wired to resources opened (and migrated) before Nest starts. */
  static with(resources: Gp2gpResources): DynamicModule {
    const self = new Gp2gpClient(new NatsRpcClient(resources.nats, { timeoutMs: 1500 }));
    const health = serviceHealth({
      service: 'gp2gp',
      subject: GP2GP_SUBJECTS.healthCheck,
      pool: resources.database.pool,
      self: (context) => self.health(context),
    });
    const side = writeSide(resources, 'gp2gp');
    return {
      module: Gp2gpModule,
      controllers: [ItemHandler, HealthController, health.handler],
      providers: [
        { provide: GP2GP_DATABASE, useValue: resources.database },
        ...health.providers,
        { provide: METRICS_REGISTRY, useValue: resources.metrics },
        // On shutdown: the write side stops (the outbox relays its last pass), then NATS and the database close.
        { provide: 'GP2GP_SHUTDOWN', useValue: shutdownHook(() => side.close()) },
        ...writeSideProviders(side),
        ItemRepository,
        CreateItemUseCase,
        GetItemUseCase,
      ],
    };
  }
}
