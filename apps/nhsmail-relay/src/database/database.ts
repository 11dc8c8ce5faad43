import { openServiceDatabase, type PoolTimeouts } from '@platform/shared-persistence';
import type { NhsmailRelayDatabase } from './database.provider';
import { InitialSchema1796476866197 } from './migrations/1796476866197-initial-schema';
import { SecureMail1796700000000 } from './migrations/1796700000000-secure-mail';
import { EventNotices1796900000000 } from './migrations/1796900000000-event-notices';
import { NoticeConsumers1797100000000 } from './migrations/1797100000000-notice-consumers';

export const MIGRATIONS = [
  InitialSchema1796476866197,
  SecureMail1796700000000,
  EventNotices1796900000000,
  NoticeConsumers1797100000000,
];

/** Connects to the service's schema and runs its pending migrations. */
export function openNhsmailRelayDatabase(settings: {
  url: string;
  schema: string;
  poolSize: number;
  timeouts?: PoolTimeouts;
}): Promise<NhsmailRelayDatabase> {
  return openServiceDatabase({ ...settings, migrations: MIGRATIONS, applicationName: 'nhsmail-relay' });
}
