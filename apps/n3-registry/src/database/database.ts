import { openServiceDatabase, type PoolTimeouts, type ServiceDatabase } from '@platform/shared-persistence';
import { Registry1764600000000 } from './migrations/1764600000000-registry';
import { GpConnectEndpoint1796500000000 } from './migrations/1796500000000-gp-connect-endpoint';

export const N3_DATABASE = Symbol('N3_DATABASE');

export const MIGRATIONS = [Registry1764600000000, GpConnectEndpoint1796500000000];

/** Connects to the registry's schema and runs its pending migrations. */
export function openRegistryDatabase(settings: {
  url: string;
  schema: string;
  poolSize: number;
  timeouts?: PoolTimeouts;
}): Promise<ServiceDatabase> {
  return openServiceDatabase({ ...settings, migrations: MIGRATIONS, applicationName: 'n3-registry' });
}
