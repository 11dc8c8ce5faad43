import autocannon from 'autocannon';
import type { Request as LoadRequest, Result as AutocannonResult } from 'autocannon';
import type { Cleanup } from './cleanup';
import type { Progress } from './progress';
import { percentileOfSorted, Samples } from './stats';

export type { LoadRequest };

export interface LoadSettings {
  /** What the progress line calls this run. */
  label: string;
  url: string;
  connections: number;
  durationSeconds: number;
  /** Pre-built requests, sent in turn by every connection (no per-request work in the load generator). */
  requests: LoadRequest[];
  /**
   * Each connection sends its own share of `requests` in turn (connection i of n the i-th of n equal slices)
   * instead of the whole list from its start, so concurrent connections never send the same request at the
   * same moment, and autocannon builds each request once rather than once per connection.
   */
  partitioned?: boolean;
}

/** Connection i of n gets the i-th of n equal slices of the list (at least one request). */
export function shareOf<T>(list: readonly T[], index: number, connections: number): T[] {
  const start = Math.floor((index * list.length) / connections) % list.length;
  const end = Math.floor(((index + 1) * list.length) / connections);
  return end > start ? list.slice(start, end) : list.slice(start, start + 1);
}

/** The `setupClient` hook that gives each new connection its own share of the list. */
function partition(
  requests: LoadRequest[],
  connections: number,
): (client: { setRequests(requests: LoadRequest[]): void }) => void {
  let next = 0;
  return (client) => {
    client.setRequests(shareOf(requests, next % connections, connections));
    next += 1;
  };
}

export interface LoadResult {
  /** Autocannon's mean of the per-second request counts. */
  requestsPerSecond: number;
  /** Latency percentiles in milliseconds, exact (from every response's own timing, not autocannon's 1 ms buckets). */
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** Responses received with a 2xx status. */
  ok: number;
  durationSeconds: number;
  statusCodes: Record<string, number>;
}

/** Thrown when any response was not a 2xx, or a connection failed: the figures would not be about reads. */
export class LoadFailure extends Error {}

function describeFailures(result: AutocannonResult): string[] {
  const problems: string[] = [];
  if (result.non2xx > 0) {
    const codes = Object.entries(result.statusCodeStats ?? {})
      .filter(([code]) => !code.startsWith('2'))
      .map(([code, stat]) => `${code} x${stat.count ?? 0}`);
    problems.push(`${result.non2xx} non-2xx responses (${codes.join(', ')})`);
  }
  if (result.errors > 0) problems.push(`${result.errors} connection errors (${result.timeouts} of them timeouts)`);
  if (result.mismatches > 0) problems.push(`${result.mismatches} body mismatches`);
  if (result.resets > 0) problems.push(`${result.resets} request pipeline resets`);
  if (result['2xx'] === 0) problems.push('no successful response at all');
  return problems;
}

/**
 * Drives one autocannon run with a countdown, and fails loudly unless every response was a 2xx. Latencies
 * are taken from each response's own timing so p50/p99 keep sub-millisecond precision.
 */
export function runLoad(settings: LoadSettings, progress: Progress, cleanup: Cleanup): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const latencies = new Samples();
    let done = 0;
    let unregister: () => void = () => undefined;
    const countdown = progress.phase(settings.label, settings.durationSeconds, () => `${done} responses`);
    const partitioned = settings.partitioned === true && settings.requests.length > 1;
    const instance = autocannon(
      {
        url: settings.url,
        connections: settings.connections,
        duration: settings.durationSeconds,
        pipelining: 1,
        timeout: 10,
        // Autocannon copies its options (and builds every request) for each connection: when each one gets
        // its own share of the list anyway, it copies a single request instead of the whole list.
        requests: partitioned ? settings.requests.slice(0, 1) : settings.requests,
        ...(partitioned ? { setupClient: partition(settings.requests, settings.connections) } : {}),
      },
      (error: unknown, result: AutocannonResult) => {
        countdown.end();
        unregister();
        if (error) {
          reject(error instanceof Error ? error : new Error(`autocannon failed: ${JSON.stringify(error)}`));
          return;
        }
        const problems = describeFailures(result);
        if (problems.length > 0) {
          reject(new LoadFailure(`${settings.label}: ${problems.join('; ')}`));
          return;
        }
        const sorted = latencies.sorted();
        const sum = sorted.reduce((total, value) => total + value, 0);
        const statusCodes = Object.fromEntries(
          Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat.count ?? 0]),
        );
        resolve({
          requestsPerSecond: result.requests.average,
          p50Ms: percentileOfSorted(sorted, 50),
          p99Ms: percentileOfSorted(sorted, 99),
          meanMs: sum / sorted.length,
          ok: result['2xx'],
          durationSeconds: result.duration,
          statusCodes,
        });
      },
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
      done += 1;
    });
    unregister = cleanup.add({
      describe: `stop the load run "${settings.label}"`,
      run: () => {
        instance.stop();
        return Promise.resolve();
      },
    });
  });
}
