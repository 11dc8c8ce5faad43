import { openServiceDatabase, type PoolTimeouts, type ServiceDatabase } from '@platform/shared-persistence';
import { Prescriptions1764700000000 } from './migrations/1764700000000-prescriptions';
import { PrescriberKeyVersions1765000000000 } from './migrations/1765000000000-prescriber-key-versions';

export const EPS_DATABASE = Symbol('EPS_DATABASE');

export const MIGRATIONS = [Prescriptions1764700000000, PrescriberKeyVersions1765000000000];

export function openEpsDatabase(settings: {
  url: string;
  schema: string;
  poolSize: number;
  timeouts?: PoolTimeouts;
}): Promise<ServiceDatabase> {
  return openServiceDatabase({ ...settings, migrations: MIGRATIONS, applicationName: 'eps' });
}
