// The value a trigger condition measures in one merged window (all clusters' stats of that
// window), or undefined when the window does not carry it. Pure.
import type { ClusterWindowStats } from "../types.js";
import type { LoadMetricName } from "../upstream-load.js";
import type { TriggerCondition, TriggerMetric } from "./types.js";

const LOAD_METRIC: Partial<Record<TriggerMetric, LoadMetricName>> = {
  cpu_utilization: "cpuUtilization",
  application_utilization: "applicationUtilization",
  queue_size: "queueSize",
};

/** The condition's value in one window; undefined without data (no requests, no load report). */
export function conditionValue(c: TriggerCondition, window: readonly ClusterWindowStats[]): number | undefined {
  const stats = c.scope === "mesh" ? window : window.filter((w) => w.cluster === c.scope);
  const serving = stats.filter((w) => w.requests > 0);
  switch (c.metric) {
    case "p99_ms": {
      const p99s = serving.map((w) => w.p99Ms).filter((v) => Number.isFinite(v));
      return p99s.length === 0 ? undefined : Math.max(...p99s);
    }
    case "error_rate": {
      const requests = serving.reduce((a, w) => a + w.requests, 0);
      return requests === 0 ? undefined : serving.reduce((a, w) => a + w.errorRate * w.requests, 0) / requests;
    }
    case "banned_output": {
      const scans = stats.flatMap((w) => (w.bodyScan === undefined ? [] : [w.bodyScan]));
      return scans.length === 0 ? undefined : scans.reduce((a, b) => a + b.matched, 0);
    }
    default: {
      const name = LOAD_METRIC[c.metric]!;
      let count = 0;
      let sum = 0;
      let max: number | undefined;
      for (const w of stats) {
        const load = w.upstreamLoad;
        const n = load?.count[name] ?? 0;
        if (load === undefined || n === 0) continue;
        count += n;
        sum += load.mean[name]! * n;
        max = Math.max(max ?? -Infinity, load.max[name]!);
      }
      if (count === 0) return undefined;
      return c.statistic === "max" ? max : sum / count;
    }
  }
}

/** "p99_ms of llm-a" / "cpu_utilization (max) of the mesh". */
export function conditionLabel(c: TriggerCondition): string {
  const stat = c.metric === "p99_ms" || c.metric === "error_rate" || c.metric === "banned_output" ? "" : ` (${c.statistic})`;
  return `${c.metric}${stat} of ${c.scope === "mesh" ? "the mesh" : c.scope}`;
}
