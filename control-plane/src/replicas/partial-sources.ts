// A follower's sidecars' sources of one window, merged into one report for the leader (who counts
// the follower as one reporter, core/sources/source-book.ts). The merge keeps space-saving's
// meaning, so the leader's bounds stay true: a source's `requests` is an upper bound of its
// true count and `requests - overestimate` a lower bound. Per source:
//   requests     = its sidecars' counts + for each sidecar that displaced sources and did not
//                  keep it, that sidecar's smallest kept count (what it may have counted for it)
//   overestimate = its sidecars' overestimates + that same unkept part
//   errors, limited: summed (errors counted since it entered stay within requests - overestimate)
// so every merged upper bound is at least what a source kept by no sidecar may have had (the
// sum of the displacing sidecars' smallest counts). At most `maxSources` are kept, the largest
// upper bounds first; a source cut there is bounded by the smallest kept upper bound, and the
// report then shows a displacement (an overestimate on its smallest entry), so the leader adds
// that bound for sources missing from it. Pure.
import type { WorkerSourceCount, WorkerSources } from "../core/sources/types.js";

export function mergeWorkerSources(parts: readonly WorkerSources[], maxSources: number): WorkerSources {
  const total = parts.reduce((a, p) => a + p.total, 0);
  const merged = new Map<string, WorkerSourceCount & { heldUnkept: number }>();
  let allUnkept = 0;
  for (const p of parts) {
    // What this sidecar may have counted for a source it did not keep (0: it displaced none).
    const unkept = p.sources.some((s) => s.overestimate > 0) ? p.sources.reduce((m, s) => Math.min(m, s.requests), Number.POSITIVE_INFINITY) : 0;
    allUnkept += unkept;
    for (const s of p.sources) {
      const m = merged.get(s.source) ?? { source: s.source, requests: 0, overestimate: 0, errors: 0, limited: 0, heldUnkept: 0 };
      m.requests += s.requests;
      m.overestimate += s.overestimate;
      m.errors += s.errors;
      m.limited += s.limited;
      m.heldUnkept += unkept;
      merged.set(s.source, m);
    }
  }
  const all: WorkerSourceCount[] = [...merged.values()].map(({ heldUnkept, ...m }) => {
    const slack = allUnkept - heldUnkept; // the displacing sidecars that did not keep it
    return { ...m, requests: m.requests + slack, overestimate: m.overestimate + slack };
  });
  all.sort((a, b) => b.requests - a.requests || (a.source < b.source ? -1 : 1));
  const kept = all.slice(0, Math.max(0, maxSources));
  if (all.length > kept.length && !kept.some((s) => s.overestimate > 0)) {
    // Cut sources, yet no displacement to show: one count more of overestimate on the smallest
    // entry that has a request not already an error (its lower bound one lower: still true).
    const loose = [...kept].reverse().find((s) => s.requests - s.overestimate - s.errors >= 1);
    if (loose !== undefined) loose.overestimate += 1;
  }
  return { sources: kept, total };
}
