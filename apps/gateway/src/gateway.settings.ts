import type { RateLimit } from './auth/rate-limiter';

export const GATEWAY_SETTINGS = Symbol('GATEWAY_SETTINGS');

export interface GatewaySettings {
  sandbox: boolean;
  publicUrl?: string;
  rateLimit: RateLimit;
  rateLimitOverrides: Map<string, RateLimit>;
}
