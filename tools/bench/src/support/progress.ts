/**
 * Progress output: one line per event, and during a timed phase the seconds left (rewritten in place on a
 * terminal, a line every few seconds otherwise, so logs of CI runs stay short).
 */
export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private live = false;
  private readonly tty = process.stdout.isTTY === true;

  say(line: string): void {
    this.clearLive();
    process.stdout.write(`[bench] ${line}\n`);
  }

  /** Shows `label` with a countdown until `end()`; `detail` adds a live figure (e.g. requests so far). */
  phase(label: string, seconds: number, detail: () => string = () => ''): { end(): void } {
    this.endPhase();
    const started = Date.now();
    const render = (): string => {
      const left = Math.max(0, Math.ceil(seconds - (Date.now() - started) / 1000));
      const extra = detail();
      return `${label}: ${left} s left${extra ? ` (${extra})` : ''}`;
    };
    if (this.tty) {
      const draw = (): void => {
        process.stdout.write(`\r\x1b[K[bench] ${render()}`);
        this.live = true;
      };
      draw();
      this.timer = setInterval(draw, 1000);
    } else {
      this.say(render());
      const every = seconds > 20 ? 10 : 5;
      this.timer = setInterval(() => this.say(render()), every * 1000);
    }
    return { end: () => this.endPhase() };
  }

  private endPhase(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clearLive();
  }

  private clearLive(): void {
    if (this.live) process.stdout.write('\r\x1b[K');
    this.live = false;
  }
}
