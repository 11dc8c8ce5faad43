import type { ServiceDatabase } from '@platform/shared-persistence';

export const PDS_DATABASE = Symbol('PDS_DATABASE');

export type PdsDatabase = ServiceDatabase;
