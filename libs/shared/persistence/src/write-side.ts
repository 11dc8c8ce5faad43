import type { OnApplicationShutdown, Provider } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Logger } from '@platform/shared-logging';
import type { ServiceDatabase } from './database';
import { Housekeeping, type Retention } from './housekeeping';
import { IdempotentWrites } from './idempotent-writes';
import { Outbox, type OutboxOptions } from './outbox';

export interface WriteSide {
  writes: IdempotentWrites;
  outbox: Outbox;
  housekeeping: Housekeeping;
  /**
   * Stops the housekeeping and the outbox relay (after its last pass), runs `before` (work that must still
   * reach the database), then drains NATS and closes the database: a service's shutdown, in order.
   */
  close(before?: () => Promise<void>): Promise<void>;
}

/** What every service that takes writes runs: exactly-once writes, the outbox relay, and their housekeeping. */
export function writeSide(
  resources: { database: ServiceDatabase; nats: NatsConnection; logger: Logger; retention: Retention },
  service: string,
  outboxOptions: OutboxOptions = {},
): WriteSide {
  const outbox = new Outbox(resources.database, resources.nats, resources.logger, service, outboxOptions);
  const housekeeping = new Housekeeping(resources.database, resources.retention, resources.logger);
  return {
    writes: new IdempotentWrites(resources.database),
    outbox,
    housekeeping,
    close: async (before) => {
      housekeeping.stop();
      await outbox.stop();
      await before?.();
      await resources.nats.drain().catch(() => undefined);
      await resources.database.dataSource.destroy();
    },
  };
}

/** The write side as Nest providers: use cases inject IdempotentWrites and Outbox by class. */
export function writeSideProviders(side: WriteSide): Provider[] {
  return [
    { provide: IdempotentWrites, useValue: side.writes },
    { provide: Outbox, useValue: side.outbox },
    { provide: Housekeeping, useValue: side.housekeeping },
  ];
}

/** A provider whose Nest shutdown hook runs `close` (register it once per module). */
export function shutdownHook(close: () => Promise<void>): OnApplicationShutdown {
  return { onApplicationShutdown: close };
}
