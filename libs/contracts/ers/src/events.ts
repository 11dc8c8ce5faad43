export type { ReferralEvent } from './payloads';
