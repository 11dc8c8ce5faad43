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
    const instance = autocannon(
      {
        url: settings.url,
        connections: settings.connections,
        duration: settings.durationSeconds,
        pipelining: 1,
        timeout: 10,
        requests: settings.requests,
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
