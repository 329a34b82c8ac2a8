// Who sends the traffic, as one piece of control-plane state: the merged sketches (SourceBook),
// the jump flags (SourceFlagger) and the limits in force, with what a round does to them: close
// the windows every sidecar has had time to report (after lateGraceMs), flag or clear sources,
// expire limits, and give the decision set's limits (caps as admitted fractions, from the last
// closed window). Pure: reports and times in, events and decisions out.
import type { SourcesConfig } from "../config.js";
import { ControlPlaneError } from "../errors.js";
import { SourceBook } from "./source-book.js";
import { SourceFlagger } from "./source-flagger.js";
import { limitDecisions, validateSourceLimit } from "./source-limits.js";
import type { SourceFlagEvent, SourceLimitDecision, SourceLimitEntry, SourcesView, WorkerSources } from "./types.js";

export interface SourceRound {
  /** Flags raised or cleared by the windows this round closed. */
  flags: SourceFlagEvent[];
  /** Limits whose TTL ended. */
  expired: SourceLimitEntry[];
  /** The decision set's limits from now. */
  decisions: SourceLimitDecision[];
}

export class SourceMonitor {
  private readonly book: SourceBook;
  private readonly flagger: SourceFlagger;
  private limits: SourceLimitEntry[] = [];
  /** Start of the newest window the flagger has seen (closed), epoch ms. */
  private lastClosedStartMs = Number.NEGATIVE_INFINITY;

  /** lateGraceMs: how long after a window's end its reports may still arrive (aggregation's). */
  constructor(config: SourcesConfig, private readonly lateGraceMs: number) {
    this.book = new SourceBook(config.keepWindows);
    this.flagger = new SourceFlagger(config);
  }

  /** One worker's report of a window (only reports the aggregation accepted). */
  ingest(reporter: string, windowStartMs: number, windowLengthMs: number, sources: WorkerSources): void {
    // A part arriving after its window was judged still counts in the views, not in the flags.
    this.book.ingest(reporter, windowStartMs, windowLengthMs, sources);
  }

  /** The limits in force, in source order. */
  limitsInForce(): SourceLimitEntry[] {
    return [...this.limits].sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  }

  /** Throws CP_ERR_SOURCE_LIMIT naming the field unless `limit` can be set at nowMs. */
  validate(limit: SourceLimitEntry, nowMs: number): void {
    validateSourceLimit(limit, nowMs, this.limits);
  }

  /** Sets (or replaces) the limit of its source; validate() first. */
  setLimit(limit: SourceLimitEntry): void {
    this.limits = [...this.limits.filter((l) => l.source !== limit.source), limit];
  }

  /** The limit in force on `source`; throws CP_ERR_SOURCE_LIMIT_UNKNOWN when there is none. */
  limitOf(source: string): SourceLimitEntry {
    const found = this.limits.find((l) => l.source === source);
    if (found === undefined) throw new ControlPlaneError("CP_ERR_SOURCE_LIMIT_UNKNOWN", `no limit is in force on source ${JSON.stringify(source)}`);
    return found;
  }

  removeLimit(source: string): void {
    this.limits = this.limits.filter((l) => l.source !== source);
  }

  /** Takes over the limits a restart restored (those expired by nowMs are dropped). */
  restore(limits: readonly SourceLimitEntry[], nowMs: number): void {
    this.limits = limits.filter((l) => l.untilMs > nowMs);
  }

  /** The sources flagged now. */
  flagged(): string[] {
    return this.flagger.flagged();
  }

  /** Of the sources flagged now, the one with the most requests in the last closed window
   *  (ties: the first in source order); undefined when none is flagged. */
  topFlagged(): string | undefined {
    const last = Number.isFinite(this.lastClosedStartMs) ? this.book.window(this.lastClosedStartMs) : undefined;
    let top: string | undefined;
    let most = -1;
    for (const source of [...this.flagger.flagged()].sort()) {
      const n = last?.requests.get(source) ?? 0;
      if (n > most) {
        top = source;
        most = n;
      }
    }
    return top;
  }

  /** The decision set's limits at nowMs (from the last closed window's rates), between rounds. */
  decisions(nowMs: number): SourceLimitDecision[] {
    return limitDecisions(this.limits, nowMs, (source) => this.offeredPerS(source));
  }

  private offeredPerS(source: string): number | undefined {
    const last = Number.isFinite(this.lastClosedStartMs) ? this.book.window(this.lastClosedStartMs) : undefined;
    const n = last?.requests.get(source);
    return last === undefined || n === undefined ? undefined : n / (last.lengthMs / 1000);
  }

  /** The top `limit` sources over the closed windows that started in the last spanMs. */
  view(nowMs: number, spanMs: number, limit: number): SourcesView {
    const closedBefore = nowMs - this.lateGraceMs;
    const closed = this.book.closedWindows(closedBefore);
    const until = closed.length > 0 ? closed.at(-1)! + 1 : nowMs;
    return this.book.view(until - spanMs, until, limit);
  }

  round(nowMs: number): SourceRound {
    const flags: SourceFlagEvent[] = [];
    for (const start of this.book.closedWindows(nowMs - this.lateGraceMs)) {
      if (start <= this.lastClosedStartMs) continue;
      this.lastClosedStartMs = start;
      const w = this.book.window(start)!;
      flags.push(...this.flagger.closeWindow(start, w.lengthMs, w.total, w.requests, nowMs));
    }
    const expired = this.limits.filter((l) => l.untilMs <= nowMs);
    if (expired.length > 0) this.limits = this.limits.filter((l) => l.untilMs > nowMs);
    return { flags, expired, decisions: this.decisions(nowMs) };
  }
}
