import type { RateLimit } from './auth/rate-limiter';

export const GATEWAY_SETTINGS = Symbol('GATEWAY_SETTINGS');

export interface GatewaySettings {
  sandbox: boolean;
  /** Where clients reach the gateway (no trailing slash), for fullUrl and Location: never the Host header. */
  publicUrl: string;
  /** Per client application, or per user of a public client. */
  rateLimit: RateLimit;
  rateLimitOverrides: Map<string, RateLimit>;
  /** Per client address, before authentication. */
  addressRateLimit: RateLimit;
  /** Public clients, whose buckets are per user. */
  publicClients: string[];
}
