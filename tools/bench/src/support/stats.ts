/** The median of the values (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Nearest-rank percentile (0 < p <= 100) of values already sorted ascending. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) throw new Error('percentile of no values');
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/** A growable list of float samples kept in typed arrays (a million latencies cost 8 MB, not 16+). */
export class Samples {
  private buffer = new Float64Array(1 << 16);
  private size = 0;

  push(value: number): void {
    if (this.size === this.buffer.length) {
      const bigger = new Float64Array(this.buffer.length * 2);
      bigger.set(this.buffer);
      this.buffer = bigger;
    }
    this.buffer[this.size] = value;
    this.size += 1;
  }

  get count(): number {
    return this.size;
  }

  sorted(): Float64Array {
    return this.buffer.slice(0, this.size).sort();
  }
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Per process, the median over runs of CPU milliseconds spent per answered request. */
export function medianCpuMsPerRequest(
  runs: readonly { cpuSeconds: Record<string, number>; load: { ok: number } }[],
): Record<string, number> {
  const names = new Set(runs.flatMap((run) => Object.keys(run.cpuSeconds)));
  const cpuMsPerRequest: Record<string, number> = {};
  for (const name of names) {
    const values = runs
      .filter((run) => run.cpuSeconds[name] !== undefined && run.load.ok > 0)
      .map((run) => ((run.cpuSeconds[name] ?? 0) * 1000) / run.load.ok);
    if (values.length > 0) cpuMsPerRequest[name] = median(values);
  }
  return cpuMsPerRequest;
}
