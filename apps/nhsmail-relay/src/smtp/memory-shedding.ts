import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A full collection that does not stop the process: V8 marks and sweeps alongside it. */
export type Collect = () => void;

/**
 * V8's collector, from the process's `gc` when node was started with --expose-gc, otherwise from a fresh
 * context made after turning that flag on (it only decides whether new contexts get a `gc` function).
 */
export function backgroundCollector(): Collect {
  let gc = (globalThis as { gc?: (options?: object) => unknown }).gc;
  if (typeof gc !== 'function') {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as (options?: object) => unknown;
  }
  const collector = gc;
  return () => void collector({ type: 'major', execution: 'async' });
}

/**
 * Gives memory back after a burst of mail. Under load V8 lets its heap grow to two to four times what is live,
 * and keeps it for some ten seconds after the load stops (its memory reducer waits for a quiet moment, and
 * puts itself off when it does not find one). Large messages arriving then are received on top of that heap.
 * Here, once at least `burst` messages have been taken in and a whole `quietMs` has then passed without one,
 * one full collection runs in the background; the heap shrinks to about its live size and its pages go back
 * to the system. Sporadic mail never reaches the burst, so a quiet relay is not collected over and over.
 */
export class MemoryShedding {
  private sinceShed = 0;
  private lastTick = 0;
  private timer?: NodeJS.Timeout;
  /** Collections run (for tests and the benchmark's notes). */
  shed = 0;

  constructor(
    private readonly collect: Collect,
    private readonly settings: { burst: number; quietMs: number } = { burst: 100, quietMs: 1000 },
  ) {}

  /** A message was taken in (accepted or refused at the end of DATA: either way its bytes were handled). */
  note(): void {
    this.sinceShed += 1;
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(), this.settings.quietMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Runs every `quietMs`: collects when the burst is over (nothing since the last tick). */
  tick(): void {
    const busy = this.sinceShed !== this.lastTick;
    this.lastTick = this.sinceShed;
    if (busy || this.sinceShed < this.settings.burst) return;
    this.sinceShed = 0;
    this.lastTick = 0;
    this.shed += 1;
    this.collect();
  }
}
