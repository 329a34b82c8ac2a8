// Flags a source whose share of the requests or whose rate jumps above its own dynamic threshold:
// mean + sigmaK·σ over its history (its earlier windows, the anomalous ones left out so a sustained
// flood does not become its new normal), filtered as the breakers' evidence is (../alarm-filter.ts,
// reused as is): a flag needs n anomalous windows among its last m with enough requests, and
// after a flag clears, the same source cannot be flagged again for cooldownMs. Pure: closed
// windows and times in, flag events out; memory bounded by maxTracked x historyWindows.
import { AlarmFilter } from "../alarm-filter.js";
import type { SourcesConfig } from "../config.js";
import type { SourceFlagEvent } from "./types.js";

/** What the flagger needs of the sources' configuration (core/config.ts SourcesConfig): all of
 *  it but how long the merged sources are kept. */
export type SourceFlagConfig = Omit<SourcesConfig, "keepWindows">;

/** σ below these counts as these: a source steady at one value would otherwise be flagged for
 *  any rise. Share: one percentage point; rate: one request per second. */
const SIGMA_FLOOR = { share: 0.01, qps: 1 } as const;

interface Tracked {
  share: number[];
  qps: number[];
  lastSeenMs: number;
  flagged: boolean;
}

/** Mean and standard deviation (population) of xs; xs non-empty. */
function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length;
  return { mean, sd: Math.sqrt(variance) };
}

export class SourceFlagger {
  private readonly tracked = new Map<string, Tracked>();
  private readonly alarms: AlarmFilter;

  constructor(private readonly config: SourceFlagConfig) {
    this.alarms = new AlarmFilter({ n: config.n, m: config.m, hardN: Number.POSITIVE_INFINITY, cooldownMs: config.cooldownMs });
  }

  /** The sources flagged now. */
  flagged(): string[] {
    return [...this.tracked].filter(([, t]) => t.flagged).map(([s]) => s).sort();
  }

  /**
   * One closed window (merged over sidecars): each source's requests, every source's total, the
   * window's start and length (ms). Returns the flags raised and cleared by it, at atMs.
   */
  closeWindow(windowStartMs: number, lengthMs: number, total: number, requests: ReadonlyMap<string, number>, atMs: number): SourceFlagEvent[] {
    const c = this.config;
    const events: SourceFlagEvent[] = [];
    for (const source of requests.keys()) {
      if (!this.tracked.has(source)) this.tracked.set(source, { share: [], qps: [], lastSeenMs: windowStartMs, flagged: false });
    }
    for (const [source, t] of this.tracked) {
      const n = requests.get(source) ?? 0;
      if (n > 0) t.lastSeenMs = windowStartMs;
      const value = { share: total > 0 ? n / total : 0, qps: lengthMs > 0 ? n / (lengthMs / 1000) : 0 };
      let jumped: { metric: "share" | "qps"; threshold: number } | undefined;
      if (t.share.length >= c.minHistory) {
        for (const metric of ["share", "qps"] as const) {
          const { mean, sd } = meanSd(t[metric]);
          const threshold = mean + c.sigmaK * Math.max(sd, SIGMA_FLOOR[metric]);
          if (value[metric] > threshold && jumped === undefined) jumped = { metric, threshold };
        }
      }
      this.alarms.record(source, { windowStartMs, evidence: n >= c.minRequests, anomalous: jumped !== undefined, hard: false, severe: false });
      const trip = this.alarms.evaluate(source, atMs).trip;
      if (trip && !t.flagged && jumped !== undefined) {
        t.flagged = true;
        events.push({ kind: "flagged", source, metric: jumped.metric, windowStartMs, value: value[jumped.metric], threshold: jumped.threshold, atMs });
      } else if (!trip && t.flagged) {
        t.flagged = false;
        this.alarms.noteClosed(source, atMs);
        events.push({ kind: "cleared", source, metric: "share", windowStartMs, value: value.share, threshold: 0, atMs });
      }
      if (jumped === undefined) {
        t.share.push(value.share);
        t.qps.push(value.qps);
        if (t.share.length > c.historyWindows) {
          t.share.shift();
          t.qps.shift();
        }
      }
    }
    this.forgetStale(windowStartMs, lengthMs);
    return events;
  }

  /** Drops sources unseen for historyWindows windows (not flagged ones), then the least recently
   *  seen beyond maxTracked. */
  private forgetStale(windowStartMs: number, lengthMs: number): void {
    const horizon = windowStartMs - this.config.historyWindows * lengthMs;
    for (const [source, t] of this.tracked) {
      if (!t.flagged && t.lastSeenMs < horizon) {
        this.tracked.delete(source);
        this.alarms.reset(source);
      }
    }
    if (this.tracked.size <= this.config.maxTracked) return;
    const order = [...this.tracked].filter(([, t]) => !t.flagged).sort((a, b) => a[1].lastSeenMs - b[1].lastSeenMs);
    for (const [source] of order.slice(0, this.tracked.size - this.config.maxTracked)) {
      this.tracked.delete(source);
      this.alarms.reset(source);
    }
  }
}
