import type { Provider } from '@nestjs/common';
import type { ServiceDatabase } from '@platform/shared-persistence';
import { LegacyTransfers, type LegacyObjectStore } from './legacy-transfers';

/** The legacy path's providers: its transfers over the service's database and the gp2gp fragment object store. */
export function legacyProviders(resources: { database: ServiceDatabase; store: LegacyObjectStore }): Provider[] {
  return [
    {
      provide: LegacyTransfers,
      useValue: new LegacyTransfers(resources.database.pool, resources.database.schema, resources.store),
    },
  ];
}
