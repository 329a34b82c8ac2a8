// Policy `envoy-cswrr`: what a mesh of Envoys does when its upstreams report their load (ORCA) and
// the operator turns on Envoy's load-aware balancer for it: client_side_weighted_round_robin
// (envoy.extensions.load_balancing_policies.client_side_weighted_round_robin.v3, Envoy >= 1.28)
// over one cluster that holds every region's endpoints, so that traffic follows the capacity the
// servers report across regions (a route's weighted clusters would keep the operator's split
// between regions whatever the reports say). Outlier detection with Envoy's defaults, as the
// envoy-outlier baseline, on that cluster; Envoy's 50 % panic threshold.
//
// Per sidecar (one Envoy): the weights of sim/policies/orca-weights.ts from the reports on its own
// responses, recomputed every weight_update_period, and picks by earliest deadline first over the
// hosts in service (Envoy's EdfScheduler: a host is due 1 / weight after its last pick), the
// schedule rebuilt from a random point whenever the weights change, as Envoy rebuilds it. Without
// reports (clusters without `load_report`) every host weighs the same and this is round robin
// over all endpoints. Approximation: a rebuild starts each host at a random point of its own
// period, where Envoy makes a random number of picks on the new scheduler (createWithPicks).
import type { Scenario } from "../scenario.js";
import { STREAM, Xoshiro128 } from "../random.js";
import type { Policy, RouteDecision, SimRequest } from "../policy.js";
import { OutlierDetector } from "./outlier-detection.js";
import { PANIC_THRESHOLD } from "./envoy-outlier.js";
import { CSWRR_DEFAULTS, OrcaWeights } from "./orca-weights.js";

/** The pooled cluster is one cluster of the outlier detector. */
const POOL = 0;

/** One Envoy's balancer over the pooled endpoints. */
class CswrrBalancer {
  readonly weights: OrcaWeights;
  readonly detector: OutlierDetector;
  /** Per host, when it is next due (EDF deadlines, in picks / weight); the scheduler's time. */
  private readonly deadline: Float64Array;
  private now = 0;

  constructor(hostCount: number, private readonly random: Xoshiro128) {
    this.weights = new OrcaWeights(hostCount);
    this.detector = new OutlierDetector([hostCount]);
    this.deadline = Float64Array.from({ length: hostCount }, () => random.next());
  }

  /** Recomputes the weights (every weight_update_period); when any changed, rebuilds the
   *  schedule from now at a random point of each host's period, as Envoy rebuilds its EDF
   *  scheduler (EdfScheduler::createWithPicks from a random seed). */
  update(nowS: number): void {
    const before = Float64Array.from(this.weights.weights);
    this.weights.update(nowS);
    if (before.every((w, h) => w === this.weights.weights[h])) return;
    for (let h = 0; h < this.deadline.length; h++) this.deadline[h] = this.now + this.random.next() / this.weights.weights[h]!;
  }

  /** The host due first among those in service (all of them in panic). */
  pick(): number {
    const count = this.deadline.length;
    const panic = this.detector.healthyHosts(POOL) < PANIC_THRESHOLD * count;
    let best = -1;
    let bestDue = Infinity;
    for (let h = 0; h < count; h++) {
      if (!panic && this.detector.isEjected(POOL, h)) continue;
      // A host back in service is due no earlier than now (no burst for the picks it missed).
      const due = Math.max(this.deadline[h]!, this.now);
      if (due < bestDue) {
        bestDue = due;
        best = h;
      }
    }
    this.now = bestDue;
    this.deadline[best] = bestDue + 1 / this.weights.weights[best]!;
    return best;
  }
}

export function createEnvoyCswrrPolicy(scenario: Scenario, seed: number): Policy {
  const endpoints: Array<{ cluster: number; host: number }> = [];
  const index: number[][] = scenario.clusters.map((c, cluster) =>
    Array.from({ length: c.endpoints }, (_, host) => endpoints.push({ cluster, host }) - 1),
  );
  const random = new Xoshiro128(seed, STREAM.policy);
  const envoys = Array.from({ length: scenario.sidecars }, () => new CswrrBalancer(endpoints.length, random));
  let nextUpdateS: number = CSWRR_DEFAULTS.weightUpdatePeriodS;
  return {
    name: "envoy-cswrr",
    route(request: SimRequest): RouteDecision {
      return endpoints[envoys[request.sidecar]!.pick()]!;
    },
    complete(request, cluster, host, status, _latencyMs, nowS, _connectFailed, load) {
      const envoy = envoys[request.sidecar]!;
      const e = index[cluster]![host]!;
      envoy.detector.onResult(POOL, e, status, nowS);
      if (load !== undefined) envoy.weights.onReport(e, load, nowS);
    },
    nextTimerS() {
      let next = nextUpdateS;
      for (const envoy of envoys) next = Math.min(next, envoy.detector.nextSweepS());
      return next;
    },
    timer(nowS) {
      for (const envoy of envoys) if (envoy.detector.nextSweepS() <= nowS) envoy.detector.sweep(nowS);
      if (nextUpdateS <= nowS) {
        for (const envoy of envoys) envoy.update(nowS);
        nextUpdateS = nowS + CSWRR_DEFAULTS.weightUpdatePeriodS;
      }
    },
    windowEnd() {},
    isOpen: () => false,
  };
}
