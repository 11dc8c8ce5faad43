export interface RateLimit {
  /** Tokens added per second. */
  rate: number;
  /** Bucket size. */
  burst: number;
}

const MAX_BUCKETS = 10_000;

interface Bucket {
  tokens: number;
  updatedAt: number;
  limit: RateLimit;
}

/**
 * A token bucket per client application. In memory, so each gateway replica enforces its own share;
 * the per-client limit is what one replica allows.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly defaults: RateLimit,
    private readonly overrides: ReadonlyMap<string, RateLimit> = new Map(),
    private readonly now: () => number = () => performance.now(),
    private readonly maxClients: number = MAX_BUCKETS,
  ) {}

  static parseOverrides(text: string): Map<string, RateLimit> {
    const overrides = new Map<string, RateLimit>();
    for (const item of text.split(',').filter(Boolean)) {
      const [client, limit] = item.split('=');
      const [rate, burst] = (limit ?? '').split(':').map(Number);
      if (client && rate && burst) overrides.set(client, { rate, burst });
    }
    return overrides;
  }

  /** Clients whose state is kept (the most recently first seen are kept when there are more). */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * A bucket that has refilled completely carries no state worth keeping. If that frees too little, the
   * clients first seen longest ago are forgotten (they start again with a full burst) down to nine tenths
   * of the bound, so the map never outgrows it and the sweep is not repeated on every request.
   */
  private forgetBuckets(now: number): void {
    for (const [client, bucket] of this.buckets) {
      const limit = bucket.limit;
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * limit.rate >= limit.burst) this.buckets.delete(client);
    }
    const keep = Math.floor(this.maxClients * 0.9);
    for (const client of this.buckets.keys()) {
      if (this.buckets.size <= keep) break;
      this.buckets.delete(client);
    }
  }

  /**
   * Takes one token from `client`'s bucket; answers the seconds to wait when there is none. `limitOf` names
   * whose limit applies (an override is set per client application, also for its users' own buckets).
   */
  take(client: string, limitOf = client): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
    const limit = this.overrides.get(limitOf) ?? this.defaults;
    const now = this.now();
    if (this.buckets.size >= this.maxClients) this.forgetBuckets(now);
    const bucket = this.buckets.get(client) ?? { tokens: limit.burst, updatedAt: now, limit };
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * limit.rate);
    bucket.updatedAt = now;
    this.buckets.set(client, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / limit.rate)) };
  }
}
