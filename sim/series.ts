// Time series of a run for charts: each cluster's traffic share and the client success rate per
// window, thinned to a bounded number of points.
import type { RunResult } from "./runner.js";

export interface RunSeries {
  /** Window end times, scenario seconds. */
  t: number[];
  /** shares[c][i]: cluster c's share of offered requests in window i (NaN: no traffic). */
  shares: number[][];
  /** Client success rate per window (NaN: no traffic). */
  success: number[];
}

/** Most points per series: windows are merged in groups (sums, so shares stay exact) beyond it. */
export const MAX_SERIES_POINTS = 600;

export function runSeries(result: RunResult, maxPoints = MAX_SERIES_POINTS): RunSeries {
  const windows = result.windows;
  const group = Math.max(1, Math.ceil(windows.length / maxPoints));
  const clusters = result.scenario.clusters.length;
  const series: RunSeries = { t: [], shares: Array.from({ length: clusters }, () => []), success: [] };
  for (let start = 0; start < windows.length; start += group) {
    let offered = 0;
    let failed = 0;
    const sent = new Array<number>(clusters).fill(0);
    const end = Math.min(windows.length, start + group);
    for (let w = start; w < end; w++) {
      const win = windows[w]!;
      offered += win.offered;
      failed += win.failed;
      win.clusters.forEach((c, i) => (sent[i]! += c.sent));
    }
    series.t.push(windows[end - 1]!.endS);
    series.success.push(offered > 0 ? 1 - failed / offered : NaN);
    sent.forEach((n, i) => series.shares[i]!.push(offered > 0 ? n / offered : NaN));
  }
  return series;
}
