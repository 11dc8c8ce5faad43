/**
 * Everything a benchmark starts registers how to undo it here; the undo steps run once, newest first, when
 * the benchmark ends, fails, or is interrupted (Ctrl-C, SIGTERM). A second interrupt while stopping runs
 * the registered `force` steps (SIGKILL) and exits at once.
 */
export interface CleanupStep {
  describe: string;
  run(): Promise<void>;
  /** Last resort on a second interrupt: must be synchronous and must not throw. */
  force?(): void;
}

export class Cleanup {
  private readonly steps: CleanupStep[] = [];
  private running: Promise<void> | undefined;
  /** Set when a signal started the cleanup: failures that follow are consequences, not findings. */
  interrupted = false;

  constructor(private readonly log: (line: string) => void) {}

  add(step: CleanupStep): () => void {
    this.steps.push(step);
    return () => {
      const index = this.steps.indexOf(step);
      if (index >= 0) this.steps.splice(index, 1);
    };
  }

  /** Runs every step (newest first) once; a failing step is reported and the others still run. */
  run(): Promise<void> {
    this.running ??= (async () => {
      while (this.steps.length > 0) {
        const step = this.steps.pop();
        if (!step) break;
        try {
          await step.run();
        } catch (error) {
          this.log(`could not ${step.describe}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    })();
    return this.running;
  }

  /** Synchronous last resort: SIGKILL whatever is still registered. */
  force(): void {
    for (const step of [...this.steps].reverse()) {
      try {
        step.force?.();
      } catch {
        // nothing more can be done
      }
    }
  }

  get pending(): number {
    return this.steps.length;
  }

  get stopping(): boolean {
    return this.running !== undefined;
  }

  /** Ctrl-C / SIGTERM / SIGHUP: stop everything, then exit with 130 (interrupted). */
  handleSignals(): void {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (this.stopping) {
        this.log(`${signal} again: killing what is left`);
        this.force();
        process.exit(130);
      }
      this.interrupted = true;
      this.log(`${signal}: stopping everything the benchmark started (again to kill at once)`);
      void this.run().then(() => {
        this.log('interrupted; everything the benchmark started is stopped');
        process.exit(130);
      });
    };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
  }
}
