import type { ServiceDatabase } from '@platform/shared-persistence';

export const GP2GP_DATABASE = Symbol('GP2GP_DATABASE');

export type Gp2gpDatabase = ServiceDatabase;
