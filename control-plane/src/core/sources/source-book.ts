// Merges the sources every worker's sketch reported, per window (the windows of all sidecars are
// on one grid), and answers the top sources over a span of closed windows. Merging sketches:
// counts add up; a source's true count in a window lies in [sum of (count - overestimate) over
// the sketches that kept it, sum of counts + sum over the sketches that did not keep it of their
// smallest count (space-saving: an unkept source has at most the smallest kept count), where
// that sketch displaced sources at all]. So a source's error is at most the sum of the sketches'
// N / K. Pure: times come in as arguments; memory is bounded by keepWindows x workers x K.
import type { SourceStat, SourcesView, WorkerSources } from "./types.js";

interface MergedCount {
  requests: number;
  overestimate: number;
  errors: number;
  limited: number;
  /** Reporters whose sketch kept it. */
  holders: Set<string>;
}

interface WindowSources {
  startMs: number;
  lengthMs: number;
  total: number;
  /** Per reporter: the smallest count it kept, when its sketch displaced sources (else 0). */
  unkeptMax: Map<string, number>;
  sources: Map<string, MergedCount>;
}

export class SourceBook {
  private readonly windows = new Map<number, WindowSources>();

  /** keepWindows: how many windows (the newest) are kept. */
  constructor(private readonly keepWindows: number) {}

  /** One worker's sources of the window starting at startMs (length lengthMs). A reporter's
   *  second report of a window adds to it (a late part). */
  ingest(reporter: string, startMs: number, lengthMs: number, report: WorkerSources): void {
    if (report.sources.length === 0 && report.total === 0) return;
    let w = this.windows.get(startMs);
    if (w === undefined) {
      w = { startMs, lengthMs, total: 0, unkeptMax: new Map(), sources: new Map() };
      this.windows.set(startMs, w);
      this.trim();
    }
    w.total += report.total;
    const displaced = report.sources.some((s) => s.overestimate > 0);
    const smallest = report.sources.reduce((m, s) => Math.min(m, s.requests), Number.POSITIVE_INFINITY);
    if (displaced) w.unkeptMax.set(reporter, Math.max(w.unkeptMax.get(reporter) ?? 0, smallest));
    for (const s of report.sources) {
      let m = w.sources.get(s.source);
      if (m === undefined) w.sources.set(s.source, (m = { requests: 0, overestimate: 0, errors: 0, limited: 0, holders: new Set() }));
      m.requests += s.requests;
      m.overestimate += s.overestimate;
      m.errors += s.errors;
      m.limited += s.limited;
      m.holders.add(reporter);
    }
  }

  private trim(): void {
    if (this.windows.size <= this.keepWindows) return;
    const starts = [...this.windows.keys()].sort((a, b) => a - b);
    for (const s of starts.slice(0, starts.length - this.keepWindows)) this.windows.delete(s);
  }

  /** Start times of the windows that ended by closedBeforeMs, oldest first. */
  closedWindows(closedBeforeMs: number): number[] {
    return [...this.windows.values()].filter((w) => w.startMs + w.lengthMs <= closedBeforeMs).map((w) => w.startMs).sort((a, b) => a - b);
  }

  /** The merged sources of the windows starting in [fromMs, untilMs), the `limit` busiest first. */
  view(fromMs: number, untilMs: number, limit: number): SourcesView {
    const windows = [...this.windows.values()].filter((w) => w.startMs >= fromMs && w.startMs < untilMs).sort((a, b) => a.startMs - b.startMs);
    const acc = new Map<string, { requests: number; overestimate: number; errors: number; limited: number; unkept: number }>();
    let total = 0;
    let unlisted = 0;
    let spanMs = 0;
    for (const w of windows) {
      total += w.total;
      spanMs += w.lengthMs;
      const unkeptAll = [...w.unkeptMax.values()].reduce((a, b) => a + b, 0);
      unlisted += unkeptAll;
      for (const [source, m] of w.sources) {
        let a = acc.get(source);
        if (a === undefined) acc.set(source, (a = { requests: 0, overestimate: 0, errors: 0, limited: 0, unkept: 0 }));
        a.requests += m.requests;
        a.overestimate += m.overestimate;
        a.errors += m.errors;
        a.limited += m.limited;
        // The sketches of this window that did not keep it may each have counted up to their smallest.
        for (const [reporter, most] of w.unkeptMax) if (!m.holders.has(reporter)) a.unkept += most;
      }
      // A source missing from this window entirely may have had up to unkeptAll here.
      for (const [source, a] of acc) if (!w.sources.has(source)) a.unkept += unkeptAll;
    }
    const spanS = spanMs / 1000;
    const sources: SourceStat[] = [...acc.entries()]
      .map(([source, a]) => {
        const counted = a.requests - a.overestimate;
        return {
          source,
          requests: a.requests,
          minRequests: counted,
          maxRequests: a.requests + a.unkept,
          errors: a.errors,
          limited: a.limited,
          qps: spanS > 0 ? a.requests / spanS : 0,
          share: total > 0 ? a.requests / total : 0,
          ...(counted > 0 ? { errorRate: a.errors / counted } : {}),
        };
      })
      .sort((x, y) => y.requests - x.requests || (x.source < y.source ? -1 : 1))
      .slice(0, Math.max(0, limit));
    return {
      fromMs: windows[0]?.startMs ?? 0,
      untilMs: windows.length > 0 ? windows.at(-1)!.startMs + windows.at(-1)!.lengthMs : 0,
      windows: windows.length,
      totalRequests: total,
      unlistedMaxRequests: unlisted,
      sources,
    };
  }

  /** One closed window's merged counts: per source its requests and the window's total and
   *  length (the flagger's and the caps' input); undefined when no report of it was kept. */
  window(startMs: number): { lengthMs: number; total: number; requests: ReadonlyMap<string, number> } | undefined {
    const w = this.windows.get(startMs);
    if (w === undefined) return undefined;
    return { lengthMs: w.lengthMs, total: w.total, requests: new Map([...w.sources].map(([s, m]) => [s, m.requests])) };
  }
}
