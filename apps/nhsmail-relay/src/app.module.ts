import { Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { NhsmailRelayClient, NHSMAIL_SUBJECTS } from '@platform/contracts-nhsmail';
import type { Logger } from '@platform/shared-logging';
import { NatsRpcClient } from '@platform/shared-nats';
import { shutdownHook, writeSide, writeSideProviders, type Retention } from '@platform/shared-persistence';
import { HealthController, METRICS_REGISTRY, serviceHealth } from '@platform/shared-service';
import { NHSMAIL_RELAY_DATABASE, type NhsmailRelayDatabase } from './database/database.provider';
import { CreateItemUseCase } from './items/create-item.usecase';
import { GetItemUseCase } from './items/get-item.usecase';
import { ItemHandler } from './items/item.handler';
import { ItemRepository } from './items/item.repository';

export interface NhsmailRelayResources {
  database: NhsmailRelayDatabase;
  nats: NatsConnection;
  metrics: Registry;
  logger: Logger;
  retention: Retention;
}

@Module({})
export class NhsmailRelayModule {
  /** The service wired to resources opened (and migrated) before Nest starts. */
  static with(resources: NhsmailRelayResources): DynamicModule {
    const self = new NhsmailRelayClient(new NatsRpcClient(resources.nats, { timeoutMs: 1500 }));
    const health = serviceHealth({
      service: 'nhsmail-relay',
      subject: NHSMAIL_SUBJECTS.healthCheck,
      pool: resources.database.pool,
      self: (context) => self.health(context),
    });
    const side = writeSide(resources, 'nhsmail-relay');
    return {
      module: NhsmailRelayModule,
      controllers: [ItemHandler, HealthController, health.handler],
      providers: [
        { provide: NHSMAIL_RELAY_DATABASE, useValue: resources.database },
        ...health.providers,
        { provide: METRICS_REGISTRY, useValue: resources.metrics },
        // On shutdown: the write side stops (the outbox relays its last pass), then NATS and the database close.
        { provide: 'NHSMAIL_RELAY_SHUTDOWN', useValue: shutdownHook(() => side.close()) },
        ...writeSideProviders(side),
        ItemRepository,
        CreateItemUseCase,
        GetItemUseCase,
      ],
    };
  }
}
