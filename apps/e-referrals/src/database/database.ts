import { openServiceDatabase, type PoolTimeouts } from '@platform/shared-persistence';
import type { EReferralsDatabase } from './database.provider';
import { InitialSchema1796476848447 } from './migrations/1796476848447-initial-schema';
import { Referrals1796500000000 } from './migrations/1796500000000-referrals';
import { PatientAccess1796600000000 } from './migrations/1796600000000-patient-access';
import { Attachments1796600000001 } from './migrations/1796600000001-attachments';
import { Advice1796600000002 } from './migrations/1796600000002-advice';
import { ProviderToAction1796700000010 } from './migrations/1796700000010-provider-to-action';
import { OnBehalfOf1796700000020 } from './migrations/1796700000020-on-behalf-of';
import { WorklistIndexes1796700000030 } from './migrations/1796700000030-worklist-indexes';
import { ReferralAdvice1796700000040 } from './migrations/1796700000040-referral-advice';
import { AdviceAttachments1796700000050 } from './migrations/1796700000050-advice-attachments';

export const MIGRATIONS = [
  InitialSchema1796476848447,
  Referrals1796500000000,
  PatientAccess1796600000000,
  Attachments1796600000001,
  Advice1796600000002,
  ProviderToAction1796700000010,
  OnBehalfOf1796700000020,
  WorklistIndexes1796700000030,
  ReferralAdvice1796700000040,
  AdviceAttachments1796700000050,
];

/** Connects to the service's schema and runs its pending migrations. */
export function openEReferralsDatabase(settings: {
  url: string;
  schema: string;
  poolSize: number;
  timeouts?: PoolTimeouts;
}): Promise<EReferralsDatabase> {
  return openServiceDatabase({ ...settings, migrations: MIGRATIONS, applicationName: 'e-referrals' });
}
