import { openServiceDatabase, type PoolTimeouts } from '@platform/shared-persistence';
import type { PdsDatabase } from './database.provider';
import { InitialSchema1764000000000 } from './migrations/1764000000000-initial-schema';
import { RelatedPerson1764100000000 } from './migrations/1764100000000-related-person';
import { Search1764200000000 } from './migrations/1764200000000-search';
import { UpdateIdempotencyOutbox1764300000000 } from './migrations/1764300000000-update-idempotency-outbox';
import { NhsNumberAllocation1764400000000 } from './migrations/1764400000000-nhs-number-allocation';
import { GivenNameWords1764800000000 } from './migrations/1764800000000-given-name-words';
import { PreviousContacts1764900000000 } from './migrations/1764900000000-previous-contacts';
import { Coverage1765100000000 } from './migrations/1765100000000-coverage';

export const MIGRATIONS = [
  InitialSchema1764000000000,
  RelatedPerson1764100000000,
  Search1764200000000,
  UpdateIdempotencyOutbox1764300000000,
  NhsNumberAllocation1764400000000,
  GivenNameWords1764800000000,
  PreviousContacts1764900000000,
  Coverage1765100000000,
];

/** Connects to PDS's schema and runs its pending migrations. */
export function openPdsDatabase(settings: {
  url: string;
  schema: string;
  poolSize: number;
  timeouts?: PoolTimeouts;
}): Promise<PdsDatabase> {
  return openServiceDatabase({ ...settings, migrations: MIGRATIONS, applicationName: 'pds' });
}
