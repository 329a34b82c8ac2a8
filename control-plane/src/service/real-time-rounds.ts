// Real-time mode: decision rounds on a timer, every decision.decideIntervalMs, and early, as soon
// as every live reporter has reported a window. Not used on virtual time (the scenario runner
// calls decide() itself).
import type { Logger } from "../../../lib/log.js";

export interface RealTimeRoundsDeps {
  /** Runs one serialised decision round (ControlPlane.decide). */
  decide(): Promise<unknown>;
  /** Whether every live reporter has reported a window that is not closed yet, at atMs. */
  hasCompleteWindow(atMs: number): boolean;
  /** decision.decideIntervalMs. */
  intervalMs: number;
  log: Logger;
}

export class RealTimeRounds {
  private timer: NodeJS.Timeout | undefined;
  private earlyRoundPending = false;

  constructor(private readonly deps: RealTimeRoundsDeps) {}

  /** Starts the timer (once; it does not hold the process open). */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.runRound(), this.deps.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A report was taken at atMs: while the timer runs, a round runs as soon as every live
   *  reporter has reported a window (once per burst of reports). */
  afterReport(atMs: number): void {
    if (this.timer !== undefined && !this.earlyRoundPending && this.deps.hasCompleteWindow(atMs)) {
      this.earlyRoundPending = true;
      setImmediate(() => {
        this.earlyRoundPending = false;
        this.runRound();
      });
    }
  }

  private runRound(): void {
    void this.deps.decide().catch((err: unknown) => this.deps.log.error({ err }, "decision round failed"));
  }
}
