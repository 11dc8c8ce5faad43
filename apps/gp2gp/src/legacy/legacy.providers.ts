import type { Provider } from '@nestjs/common';
import { Outbox, type ServiceDatabase } from '@platform/shared-persistence';
import { LegacyTransfers, type LegacyObjectStore } from './legacy-transfers';
import { LegacyUploads } from './legacy-uploads';

/**
 * The legacy path's providers: its transfers over the service's database, the gp2gp fragment object store and
 * the service's outbox (its events go out with the FHIR path's), and the MHS messages posted through the gateway.
 */
export function legacyProviders(resources: { database: ServiceDatabase; store: LegacyObjectStore }): Provider[] {
  return [
    {
      provide: LegacyTransfers,
      useFactory: (outbox: Outbox) =>
        new LegacyTransfers(resources.database.pool, resources.database.schema, resources.store, outbox),
      inject: [Outbox],
    },
    {
      provide: LegacyUploads,
      useFactory: (transfers: LegacyTransfers) => new LegacyUploads(resources.store, transfers),
      inject: [LegacyTransfers],
    },
  ];
}
