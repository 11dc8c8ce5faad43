import type { ServiceDatabase } from '@platform/shared-persistence';

export const E_REFERRALS_DATABASE = Symbol('E_REFERRALS_DATABASE');

export type EReferralsDatabase = ServiceDatabase;
