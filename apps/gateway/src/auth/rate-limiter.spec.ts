import { RateLimiter } from './rate-limiter';

describe('RateLimiter', () => {
  it('allows a burst, then refuses with the seconds to wait, then refills at the rate', () => {
    let now = 0;
    const limiter = new RateLimiter({ rate: 2, burst: 3 }, new Map(), () => now);
    expect([1, 2, 3].map(() => limiter.take('app').allowed)).toEqual([true, true, true]);
    expect(limiter.take('app')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 500;
    expect(limiter.take('app').allowed).toBe(true);
    expect(limiter.take('app').allowed).toBe(false);
  });

  it('keeps clients apart and applies per-client overrides', () => {
    const limiter = new RateLimiter({ rate: 100, burst: 100 }, RateLimiter.parseOverrides('slow-app=1:1'), () => 0);
    expect(limiter.take('slow-app').allowed).toBe(true);
    expect(limiter.take('slow-app')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.take('other-app').allowed).toBe(true);
  });

  it("applies a client application's override to each of its users' own buckets", () => {
    const limiter = new RateLimiter({ rate: 100, burst: 100 }, RateLimiter.parseOverrides('cli=1:2'), () => 0);
    expect([1, 2, 3].map(() => limiter.take('cli user alice', 'cli').allowed)).toEqual([true, true, false]);
    expect(limiter.take('cli user bob', 'cli').allowed).toBe(true);
  });

  it('keeps at most its bound of clients, even when none of their buckets has refilled', () => {
    const limiter = new RateLimiter({ rate: 1, burst: 5 }, new Map(), () => 0, 100);
    for (let client = 0; client < 10_000; client += 1) limiter.take(`client-${client}`);
    expect(limiter.size).toBeLessThanOrEqual(100);
    // The most recent clients keep their state: client-9999 has spent one of its five tokens.
    for (let attempt = 0; attempt < 4; attempt += 1) expect(limiter.take('client-9999').allowed).toBe(true);
    expect(limiter.take('client-9999').allowed).toBe(false);
  });
});
