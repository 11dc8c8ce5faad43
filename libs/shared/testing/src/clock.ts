/**
 * Lets a unit test move the monotonic clock (`performance.now()`, which lru-cache reads for its TTLs) forward
 * without waiting. Call it in `beforeEach` and `restore` it in `afterEach`.
 */
export function skippableClock(): { skip(ms: number): Promise<void>; restore(): void } {
  let skippedMs = 0;
  const realNow = performance.now.bind(performance);
  const spy = jest.spyOn(performance, 'now').mockImplementation(() => realNow() + skippedMs);
  return {
    skip: async (ms: number) => {
      skippedMs += ms;
      // Past lru-cache's 1 ms reuse of the time it last read.
      await new Promise((resolve) => setTimeout(resolve, 5));
    },
    restore: () => spy.mockRestore(),
  };
}
