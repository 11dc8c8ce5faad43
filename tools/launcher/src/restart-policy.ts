/** How the launcher restarts a process that died (see RestartPolicy). */
export interface RestartSettings {
  /** The first restart waits this long; each further one in a row twice as long... */
  baseDelayMs: number;
  /** ...up to this. */
  maxDelayMs: number;
  /** A process that ran at least this long before it died starts again from the first delay. */
  stableMs: number;
  /** Dying more than maxRestarts times within windowMs means it will not get better: the launcher gives up. */
  maxRestarts: number;
  windowMs: number;
}

export const DEFAULT_RESTARTS: RestartSettings = {
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  stableMs: 60_000,
  maxRestarts: 5,
  windowMs: 120_000,
};

export type RestartDecision =
  | { restart: true; delayMs: number; attempt: number }
  | { restart: false; restartsInWindow: number };

/** Reads RestartSettings from LAUNCHER_* variables, falling back to the defaults. */
export function restartSettingsFrom(env: NodeJS.ProcessEnv): RestartSettings {
  const number = (name: string, fallback: number): number => {
    const value = Number(env[name]);
    return env[name] !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
  };
  return {
    baseDelayMs: number('LAUNCHER_RESTART_DELAY_MS', DEFAULT_RESTARTS.baseDelayMs),
    maxDelayMs: number('LAUNCHER_RESTART_MAX_DELAY_MS', DEFAULT_RESTARTS.maxDelayMs),
    stableMs: DEFAULT_RESTARTS.stableMs,
    maxRestarts: number('LAUNCHER_MAX_RESTARTS', DEFAULT_RESTARTS.maxRestarts),
    windowMs: number('LAUNCHER_RESTART_WINDOW_MS', DEFAULT_RESTARTS.windowMs),
  };
}

/**
 * Exponential back-off for one supervised process, with a limit: restart after 1 s, 2 s, 4 s ... (capped),
 * from 1 s again once the process has stayed up a while; no restart once it has died too often in the window.
 */
export class RestartPolicy {
  private readonly restarts: number[] = [];
  private inARow = 0;

  constructor(private readonly settings: RestartSettings = DEFAULT_RESTARTS) {}

  /** The process died at `now` after running `upMs`: restart it (after delayMs), or give up. */
  onExit(now: number, upMs: number): RestartDecision {
    if (upMs >= this.settings.stableMs) this.inARow = 0;
    while (this.restarts.length > 0 && now - (this.restarts[0] ?? now) > this.settings.windowMs) this.restarts.shift();
    if (this.restarts.length >= this.settings.maxRestarts) {
      return { restart: false, restartsInWindow: this.restarts.length };
    }
    this.restarts.push(now);
    const delayMs = Math.min(this.settings.baseDelayMs * 2 ** this.inARow, this.settings.maxDelayMs);
    this.inARow += 1;
    return { restart: true, delayMs, attempt: this.restarts.length };
  }
}
