// The upstream load the sidecars read from their responses' ORCA load reports (proto
// UpstreamLoad, filter/src/core/orca.ts), as the core sees it: per metric a count of samples,
// their sum and their max. Windows of several workers merge by adding counts and sums and taking
// the max; a merged window's mean is sum / count, a request-weighted mean (one sample per
// response that carried the metric). Pure data and functions.

/** The metrics kept, in the .proto's order (UpstreamLoad fields 3..7). */
export const LOAD_METRICS = ["cpuUtilization", "memUtilization", "applicationUtilization", "rpsFractional", "queueSize"] as const;
export type LoadMetricName = (typeof LOAD_METRICS)[number];

/** The samples of one metric over a window. */
export interface LoadSamples {
  count: number;
  sum: number;
  max: number;
}

/** One worker's (or a merged) window of upstream load. */
export interface UpstreamLoadSamples {
  /** Responses whose report was read. */
  reports: number;
  /** Responses whose endpoint-load-metrics header could not be read. */
  unparsed: number;
  metrics: Partial<Record<LoadMetricName, LoadSamples>>;
}

/** A merged window's upstream load: per metric carried, its samples, their request-weighted
 *  mean and their max. */
export interface UpstreamLoadStats {
  reports: number;
  unparsed: number;
  count: Partial<Record<LoadMetricName, number>>;
  mean: Partial<Record<LoadMetricName, number>>;
  max: Partial<Record<LoadMetricName, number>>;
}

export function emptyLoad(): UpstreamLoadSamples {
  return { reports: 0, unparsed: 0, metrics: {} };
}

/** Adds `from` into `into` (counts and sums add, max of max). */
export function addLoad(into: UpstreamLoadSamples, from: UpstreamLoadSamples): void {
  into.reports += from.reports;
  into.unparsed += from.unparsed;
  for (const name of LOAD_METRICS) {
    const m = from.metrics[name];
    if (m === undefined || m.count === 0) continue;
    const acc = into.metrics[name];
    if (acc === undefined) into.metrics[name] = { ...m };
    else {
      acc.max = acc.count === 0 ? m.max : Math.max(acc.max, m.max);
      acc.count += m.count;
      acc.sum += m.sum;
    }
  }
}

/** Mean and max per metric carried; undefined when no response carried a header at all. */
export function loadStats(samples: UpstreamLoadSamples): UpstreamLoadStats | undefined {
  if (samples.reports === 0 && samples.unparsed === 0) return undefined;
  const stats: UpstreamLoadStats = { reports: samples.reports, unparsed: samples.unparsed, count: {}, mean: {}, max: {} };
  for (const name of LOAD_METRICS) {
    const m = samples.metrics[name];
    if (m === undefined || m.count === 0) continue;
    stats.count[name] = m.count;
    stats.mean[name] = m.sum / m.count;
    stats.max[name] = m.max;
  }
  return stats;
}

/** The first problem of a worker's samples (non-finite numbers, negative counts), naming the field. */
export function loadProblem(samples: UpstreamLoadSamples): string | undefined {
  for (const name of LOAD_METRICS) {
    const m = samples.metrics[name];
    if (m === undefined) continue;
    if (!Number.isFinite(m.sum) || !Number.isFinite(m.max)) return `upstream_load.${snake(name)}: sum ${m.sum} and max ${m.max} must be finite`;
  }
  return undefined;
}

/** The .proto's field name of a metric ("cpuUtilization" -> "cpu_utilization"). */
export function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
