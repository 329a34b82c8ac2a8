// Envoy stats through the ABI's metrics. Names (one per cluster and class where noted):
//   autoglm.requests.<cluster>.<class>     counter   completed requests by outcome class
//                                                    (1xx 2xx 3xx 4xx 5xx reset timeout local_reject
//                                                    client_ended; see outcome.ts)
//   autoglm.latency_us.<cluster>           histogram request-to-end latency, microseconds
//   autoglm.breaker_state.<cluster>        gauge     state enforced: 1 closed, 2 open, 3 half-open
//   autoglm.weight.<cluster>               gauge     weight enforced
//   autoglm.shed.<cluster>                 counter   requests refused by a shed decision (local 429;
//                                                    also counted as local_reject)
//   autoglm.decisions.applied              counter   decision sets applied (ACKed)
//   autoglm.decisions.rejected             counter   decision sets rejected (NACKed)
//   autoglm.decision_version               gauge     decision version enforced (0: none)
//   autoglm.fallback                       gauge     1 while the local fallback breakers rule
//   autoglm.cp.reconnects                  counter   control-plane streams opened after the first
// Metrics are defined once per name (ids kept across reconfiguration). Counters accumulate in
// the VM and are flushed on tick (one host call per changed counter per tick, not per request);
// the histogram is recorded per request.
import { defineMetric, incrementMetric, recordMetric } from "../abi/hostcalls";
import { MetricType } from "../abi/types";
import { CLASS_COUNT, CLASS_NAMES } from "./outcome";

/** Metrics defined in this VM: names and ids (parallel), so a reconfiguration reuses them.
 *  A linear search (at configuration only): a Map<string, u32> costs ~0.6 KB of the module. */
const definedNames: string[] = [];
const definedIds: u32[] = [];

function metricId(metricType: i32, name: string): u32 {
  for (let i = 0; i < definedNames.length; i++) if (unchecked(definedNames[i]) == name) return unchecked(definedIds[i]);
  const id = defineMetric(metricType, name);
  definedNames.push(name);
  definedIds.push(id);
  return id;
}

/** One metric per cluster: "autoglm." + prefix + the cluster's name, ids by cluster index. */
function perCluster(metricType: i32, prefix: string, names: string[]): StaticArray<u32> {
  const ids = new StaticArray<u32>(names.length);
  for (let i = 0; i < names.length; i++) unchecked((ids[i] = metricId(metricType, "autoglm." + prefix + unchecked(names[i]))));
  return ids;
}

export class FilterMetrics {
  private clusters: i32;
  private requestIds: StaticArray<u32>;
  /** Pending counter deltas, [cluster * CLASS_COUNT + class]. */
  private pending: StaticArray<i64>;
  private latencyIds: StaticArray<u32>;
  private stateIds: StaticArray<u32>;
  private weightIds: StaticArray<u32>;
  private fastTripIds: StaticArray<u32>;
  private shedIds: StaticArray<u32>;
  /** Last gauge values set (-1: never), to skip unchanged ones. */
  private lastState: StaticArray<i64>;
  private lastWeight: StaticArray<i64>;
  private appliedId: u32;
  private rejectedId: u32;
  private versionId: u32;
  private fallbackId: u32;
  private reconnectsId: u32;
  private pendingApplied: i64 = 0;
  private pendingRejected: i64 = 0;
  private pendingReconnects: i64 = 0;

  constructor(names: string[]) {
    const n = names.length;
    this.clusters = n;
    this.requestIds = new StaticArray<u32>(n * CLASS_COUNT);
    this.pending = new StaticArray<i64>(n * CLASS_COUNT);
    this.latencyIds = perCluster(MetricType.HISTOGRAM, "latency_us.", names);
    this.stateIds = perCluster(MetricType.GAUGE, "breaker_state.", names);
    this.weightIds = perCluster(MetricType.GAUGE, "weight.", names);
    this.fastTripIds = perCluster(MetricType.COUNTER, "fast_trips.", names);
    this.shedIds = perCluster(MetricType.COUNTER, "shed.", names);
    this.lastState = new StaticArray<i64>(n);
    this.lastWeight = new StaticArray<i64>(n);
    for (let i = 0; i < n; i++) {
      const name = unchecked(names[i]);
      for (let k = 0; k < CLASS_COUNT; k++) {
        unchecked((this.requestIds[i * CLASS_COUNT + k] =
          metricId(MetricType.COUNTER, "autoglm.requests." + name + "." + unchecked(CLASS_NAMES[k]))));
      }
      unchecked((this.lastState[i] = -1));
      unchecked((this.lastWeight[i] = -1));
    }
    this.appliedId = metricId(MetricType.COUNTER, "autoglm.decisions.applied");
    this.rejectedId = metricId(MetricType.COUNTER, "autoglm.decisions.rejected");
    this.versionId = metricId(MetricType.GAUGE, "autoglm.decision_version");
    this.fallbackId = metricId(MetricType.GAUGE, "autoglm.fallback");
    this.reconnectsId = metricId(MetricType.COUNTER, "autoglm.cp.reconnects");
  }

  countRequest(cluster: i32, outcomeClass: i32): void {
    const at = cluster * CLASS_COUNT + outcomeClass;
    unchecked((this.pending[at] = this.pending[at] + 1));
  }

  recordLatencyUs(cluster: i32, us: u64): void {
    recordMetric(unchecked(this.latencyIds[cluster]), us);
  }

  /** Cluster i failed enough requests in a row to be held out of the pick (rare: sent at once). */
  countFastTrip(cluster: i32): void {
    incrementMetric(unchecked(this.fastTripIds[cluster]), 1);
  }

  /** A request to cluster i was shed: sent at once (it also costs a local reply, far more). */
  countShed(cluster: i32): void {
    incrementMetric(unchecked(this.shedIds[cluster]), 1);
  }

  decisionApplied(): void { this.pendingApplied++; }
  decisionRejected(): void { this.pendingRejected++; }
  reconnected(): void { this.pendingReconnects++; }

  /** Sets the gauges that changed. */
  setEnforced(states: StaticArray<i32>, weights: StaticArray<u32>, version: u64, fallback: bool): void {
    for (let i = 0; i < this.clusters; i++) {
      const s = <i64>unchecked(states[i]);
      if (s != unchecked(this.lastState[i])) {
        unchecked((this.lastState[i] = s));
        recordMetric(unchecked(this.stateIds[i]), <u64>s);
      }
      const w = <i64>unchecked(weights[i]);
      if (w != unchecked(this.lastWeight[i])) {
        unchecked((this.lastWeight[i] = w));
        recordMetric(unchecked(this.weightIds[i]), <u64>w);
      }
    }
    recordMetric(this.versionId, version);
    recordMetric(this.fallbackId, fallback ? 1 : 0);
  }

  /** Sends the accumulated counter deltas to the host. */
  flush(): void {
    const total = this.clusters * CLASS_COUNT;
    for (let k = 0; k < total; k++) {
      const d = unchecked(this.pending[k]);
      if (d != 0) {
        incrementMetric(unchecked(this.requestIds[k]), d);
        unchecked((this.pending[k] = 0));
      }
    }
    if (this.pendingApplied != 0) incrementMetric(this.appliedId, this.pendingApplied);
    if (this.pendingRejected != 0) incrementMetric(this.rejectedId, this.pendingRejected);
    if (this.pendingReconnects != 0) incrementMetric(this.reconnectsId, this.pendingReconnects);
    this.pendingApplied = 0;
    this.pendingRejected = 0;
    this.pendingReconnects = 0;
  }
}
