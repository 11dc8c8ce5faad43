import { Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { EReferralsClient, ERS_SUBJECTS } from '@platform/contracts-ers';
import type { Logger } from '@platform/shared-logging';
import { NatsRpcClient } from '@platform/shared-nats';
import { shutdownHook, writeSide, writeSideProviders, type Retention } from '@platform/shared-persistence';
import { HealthController, METRICS_REGISTRY, serviceHealth } from '@platform/shared-service';
import { E_REFERRALS_DATABASE, type EReferralsDatabase } from './database/database.provider';
import { CreateItemUseCase } from './items/create-item.usecase';
import { GetItemUseCase } from './items/get-item.usecase';
import { ItemHandler } from './items/item.handler';
import { ItemRepository } from './items/item.repository';

export interface EReferralsResources {
  database: EReferralsDatabase;
  nats: NatsConnection;
  metrics: Registry;
  logger: Logger;
  retention: Retention;
}

@Module({})
export class EReferralsModule {
  /** The service wired to resources opened (and migrated) before Nest starts. */
  static with(resources: EReferralsResources): DynamicModule {
    const self = new EReferralsClient(new NatsRpcClient(resources.nats, { timeoutMs: 1500 }));
    const health = serviceHealth({
      service: 'e-referrals',
      subject: ERS_SUBJECTS.healthCheck,
      pool: resources.database.pool,
      self: (context) => self.health(context),
    });
    const side = writeSide(resources, 'e-referrals');
    return {
      module: EReferralsModule,
      controllers: [ItemHandler, HealthController, health.handler],
      providers: [
        { provide: E_REFERRALS_DATABASE, useValue: resources.database },
        ...health.providers,
        { provide: METRICS_REGISTRY, useValue: resources.metrics },
        // On shutdown: the write side stops (the outbox relays its last pass), then NATS and the database close.
        { provide: 'E_REFERRALS_SHUTDOWN', useValue: shutdownHook(() => side.close()) },
        ...writeSideProviders(side),
        ItemRepository,
        CreateItemUseCase,
        GetItemUseCase,
      ],
    };
  }
}
