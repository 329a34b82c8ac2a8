// Metrics defined by proxy-wasm modules (proxy_define_metric & co.). One store is shared by every
// VM instance of a process, as Envoy's stats are: defining the same name again returns the same id.
// Counters only grow (increment by a non-negative delta); gauges move both ways; histograms record
// samples into Envoy's default buckets.
import { MetricType, Status } from "./abi.js";

export type MetricKind = "counter" | "gauge" | "histogram";

/** Envoy's default histogram bucket bounds (same units as the recorded values). */
export const DEFAULT_HISTOGRAM_BUCKETS: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

export interface HistogramValue {
  /** Number of recorded samples. */
  count: number;
  /** Sum of recorded samples. */
  sum: number;
  /** Upper bounds of the buckets. */
  bounds: readonly number[];
  /** Samples per bucket (not cumulative); the last entry counts samples above every bound. */
  counts: number[];
}

export interface MetricSnapshot {
  name: string;
  kind: MetricKind;
  /** Counter or gauge value; for a histogram, its sample count. */
  value: number;
  histogram?: HistogramValue;
}

interface Metric {
  name: string;
  kind: MetricKind;
  value: number;
  histogram: HistogramValue | null;
}

const KIND_OF_TYPE: Record<number, MetricKind | undefined> = {
  [MetricType.Counter]: "counter",
  [MetricType.Gauge]: "gauge",
  [MetricType.Histogram]: "histogram",
};

export class MetricsStore {
  /** Indexed by metric id; id 0 is never used. */
  private readonly metrics: Array<Metric | undefined> = [undefined];
  private readonly byName = new Map<string, number>();

  /**
   * Defines (or finds) a metric; returns its id, or a negative Status when the type is unknown or
   * the name is already a metric of another kind.
   */
  define(type: number, name: string): number {
    const kind = KIND_OF_TYPE[type];
    if (kind === undefined) return -Status.BadArgument;
    const existing = this.byName.get(name);
    if (existing !== undefined) return this.metrics[existing]!.kind === kind ? existing : -Status.BadArgument;
    const id = this.metrics.length;
    this.metrics.push({
      name,
      kind,
      value: 0,
      histogram:
        kind === "histogram"
          ? { count: 0, sum: 0, bounds: DEFAULT_HISTOGRAM_BUCKETS, counts: new Array<number>(DEFAULT_HISTOGRAM_BUCKETS.length + 1).fill(0) }
          : null,
    });
    this.byName.set(name, id);
    return id;
  }

  /** proxy_increment_metric: counters by a non-negative delta, gauges by any delta. */
  increment(id: number, delta: number): Status {
    const m = this.metrics[id];
    if (m === undefined) return Status.NotFound;
    if (m.kind === "histogram") return Status.BadArgument;
    if (m.kind === "counter" && delta < 0) return Status.BadArgument;
    m.value += delta;
    return Status.Ok;
  }

  /** proxy_record_metric: sets a gauge, raises a counter to `value`, adds a histogram sample. */
  record(id: number, value: number): Status {
    const m = this.metrics[id];
    if (m === undefined) return Status.NotFound;
    if (m.kind === "gauge") m.value = value;
    else if (m.kind === "counter") {
      if (value > m.value) m.value = value;
    } else {
      const h = m.histogram!;
      h.count++;
      h.sum += value;
      let i = 0;
      while (i < h.bounds.length && value > h.bounds[i]!) i++;
      h.counts[i]!++;
      m.value = h.count;
    }
    return Status.Ok;
  }

  /** proxy_get_metric: the value of a counter or gauge; undefined for unknown ids and histograms. */
  get(id: number): number | undefined {
    const m = this.metrics[id];
    if (m === undefined || m.kind === "histogram") return undefined;
    return m.value;
  }

  /** Whether `id` names a histogram (proxy_get_metric answers BAD_ARGUMENT for those). */
  isHistogram(id: number): boolean {
    return this.metrics[id]?.kind === "histogram";
  }

  /** The value of a counter or gauge by name (a histogram's sample count), or undefined. */
  value(name: string): number | undefined {
    const id = this.byName.get(name);
    return id === undefined ? undefined : this.metrics[id]!.value;
  }

  histogram(name: string): HistogramValue | undefined {
    const id = this.byName.get(name);
    return id === undefined ? undefined : (this.metrics[id]!.histogram ?? undefined);
  }

  snapshot(): MetricSnapshot[] {
    const out: MetricSnapshot[] = [];
    for (const m of this.metrics) {
      if (m === undefined) continue;
      const snap: MetricSnapshot = { name: m.name, kind: m.kind, value: m.value };
      if (m.histogram !== null) snap.histogram = { ...m.histogram, counts: m.histogram.counts.slice() };
      out.push(snap);
    }
    return out;
  }
}
