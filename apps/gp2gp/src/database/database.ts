import { openServiceDatabase, type PoolTimeouts } from '@platform/shared-persistence';
import type { Gp2gpDatabase } from './database.provider';
import { InitialSchema1796476856182 } from './migrations/1796476856182-initial-schema';
import { LegacyTransfers1796600000000 } from './migrations/1796600000000-legacy-transfers';

export const MIGRATIONS = [InitialSchema1796476856182, LegacyTransfers1796600000000];

/** Connects to the service's schema and runs its pending migrations. */
export function openGp2gpDatabase(settings: {
  url: string;
  schema: string;
  poolSize: number;
  timeouts?: PoolTimeouts;
}): Promise<Gp2gpDatabase> {
  return openServiceDatabase({ ...settings, migrations: MIGRATIONS, applicationName: 'gp2gp' });
}
