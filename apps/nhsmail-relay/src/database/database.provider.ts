import type { ServiceDatabase } from '@platform/shared-persistence';

export const NHSMAIL_RELAY_DATABASE = Symbol('NHSMAIL_RELAY_DATABASE');

export type NhsmailRelayDatabase = ServiceDatabase;
