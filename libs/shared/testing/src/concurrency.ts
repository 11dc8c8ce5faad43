/**
 * Runs `count` callers at once and settles them all within `ms`, or fails saying that they hung: a deadlocked
 * pool never settles at all, so a test of concurrency must bound its wait rather than rely on jest's timeout.
 */
export function allAtOnce<T>(
  count: number,
  ms: number,
  caller: (index: number) => Promise<T>,
): Promise<PromiseSettledResult<T>[]> {
  let timer: NodeJS.Timeout | undefined;
  const all = Promise.allSettled(Array.from({ length: count }, (_, index) => caller(index)));
  return Promise.race([
    all.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${count} concurrent callers had not all finished after ${ms} ms`)),
        ms,
      );
    }),
  ]);
}

/** What each caller got: its answer, or the code of the platform error it failed with (or the error's message). */
export function outcomes<T>(results: PromiseSettledResult<T>[]): (T | string)[] {
  return results.map((result) => {
    if (result.status === 'fulfilled') return result.value;
    const reason = result.reason as { code?: unknown; message?: unknown } | null;
    if (typeof reason?.code === 'string') return reason.code;
    return `error: ${typeof reason?.message === 'string' ? reason.message : JSON.stringify(reason)}`;
  });
}

/** How many of each answer (by a key of the answer) the callers got. */
export function tally<T>(values: T[], keyOf: (value: T) => string = String): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[keyOf(value)] = (counts[keyOf(value)] ?? 0) + 1;
  return counts;
}
