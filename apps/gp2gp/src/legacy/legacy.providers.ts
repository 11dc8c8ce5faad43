import type { Provider } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { ServiceDatabase } from '@platform/shared-persistence';
import { FragmentStore } from '../transfers/fragment-store';
import { LegacyTransfers } from './legacy-transfers';

/** The legacy path's providers: its transfers over the service's database and the gp2gp fragment store. */
export function legacyProviders(resources: { database: ServiceDatabase; nats: NatsConnection }): Provider[] {
  return [
    {
      provide: LegacyTransfers,
      useFactory: async () =>
        new LegacyTransfers(
          resources.database.pool,
          resources.database.schema,
          // Opening the bucket binds to it when it exists (its size limit is the FHIR path's setting).
          await FragmentStore.open(resources.nats, 0),
        ),
    },
  ];
}
