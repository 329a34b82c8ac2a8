// Reference policies `oracle-next-window` and `oracle-last-window`: not products and not
// baselines, but bounds on what any policy that sets cluster shares (autoglm's actuator) could do.
// Each reads the scenario's truth (its fault timeline and offered rate), which no real policy sees,
// and at every window's end sets the traffic shares for the next window with sim/oracle-plan.ts:
//   - oracle-next-window knows what will be true during the next window (a perfect forecast one
//     window ahead, at autoglm's decision cadence);
//   - oracle-last-window knows what was true during the window that just ended (perfect
//     telemetry, no forecast): what a flawless estimator of the present could do.
// Within a cluster, requests go round robin (each sidecar its own cursor, as Envoy's balancer)
// over the hosts that are not down (down chance below one half at the middle of the span known), as a host
// ejection that never errs would do; when every host of a cluster is down, over all of them.
// Both never hold a breaker open: a cluster they give nothing to counts as cut by its share.
import type { Scenario } from "../scenario.js";
import { FaultTimeline } from "../faults.js";
import { TrafficRate } from "../traffic.js";
import { fitLogNormal } from "../random.js";
import { baseShares, RoundRobinHosts, weightedPick, type Policy, type RouteDecision, type SimRequest } from "../policy.js";
import { planShares, type ClusterTruth, type HostGroupTruth, type RequestObjective, type TruthSample } from "../oracle-plan.js";

/** Which span of truth the oracle decides on. */
export type OracleHorizon = "next-window" | "last-window";

/** Instants sampled per span (at its quarters' midpoints). */
const SAMPLES_PER_SPAN = 4;
/** A host whose down chance over the span reaches this is out of rotation. */
const DOWN_OUT_OF_ROTATION = 0.5;

/** Groups a cluster's hosts in rotation by their fault effect at time t. */
function hostGroups(timeline: FaultTimeline, cluster: number, inRotation: readonly boolean[], t: number): HostGroupTruth[] {
  const groups: HostGroupTruth[] = [];
  const keys: string[] = [];
  inRotation.forEach((inside, host) => {
    if (!inside) return;
    const effect = timeline.effectOn(cluster, host, t);
    const key = JSON.stringify(effect);
    const at = keys.indexOf(key);
    if (at >= 0) groups[at] = { hosts: groups[at]!.hosts + 1, effect };
    else {
      keys.push(key);
      groups.push({ hosts: 1, effect });
    }
  });
  return groups;
}

export function createOraclePolicy(scenario: Scenario, horizon: OracleHorizon): Policy {
  const timeline = new FaultTimeline(scenario);
  const rate = new TrafficRate(scenario.traffic);
  const base = baseShares(scenario);
  const objective: RequestObjective = { latencyMs: scenario.slo.latency_ms, clientTimeoutMs: scenario.slo.client_timeout_ms, rateWindowS: scenario.window_s, successRate: scenario.slo.success_rate };
  const hosts = new RoundRobinHosts(scenario.clusters.map((c) => c.endpoints), scenario.sidecars, scenario.seed);
  const latency = scenario.clusters.map((c) => fitLogNormal(c.latency_ms.p50, c.latency_ms.p99));
  let shares = [...base];
  let inRotation = scenario.clusters.map((c) => new Array<boolean>(c.endpoints).fill(true));

  const decide = (fromS: number, toS: number): void => {
    const mid = (fromS + toS) / 2;
    inRotation = scenario.clusters.map((c, ci) => {
      const up = Array.from({ length: c.endpoints }, (_, h) => timeline.effectOn(ci, h, mid).downChance < DOWN_OUT_OF_ROTATION);
      return up.some((x) => x) ? up : up.map(() => true);
    });
    const samples: TruthSample[] = [];
    for (let k = 0; k < SAMPLES_PER_SPAN; k++) {
      const t = fromS + ((k + 0.5) / SAMPLES_PER_SPAN) * (toS - fromS);
      const clusters: ClusterTruth[] = scenario.clusters.map((c, ci) => ({
        hostCapacityRps: c.capacity_rps / c.endpoints,
        errorRate: c.error_rate,
        latencyMu: latency[ci]!.mu,
        latencySigma: latency[ci]!.sigma,
        streamFraction: c.llm?.stream_fraction ?? 0,
        groups: hostGroups(timeline, ci, inRotation[ci]!, t),
      }));
      samples.push({ offeredRps: rate.rpsAt(t), clusters });
    }
    shares = planShares(base, samples, objective);
  };

  const windowS = scenario.window_s;
  if (horizon === "next-window") decide(0, Math.min(windowS, scenario.duration_s));

  return {
    name: `oracle-${horizon}`,
    route(request: SimRequest): RouteDecision {
      const cluster = weightedPick(shares, request.routeDraw);
      const rotation = inRotation[cluster]!;
      return { cluster, host: hosts.pick(request.sidecar, cluster, (h) => !rotation[h]) };
    },
    complete() {},
    nextTimerS: () => Infinity,
    timer() {},
    windowEnd(_window: number, endS: number) {
      if (horizon === "next-window") decide(endS, Math.min(endS + windowS, scenario.duration_s));
      else decide(Math.max(0, endS - windowS), endS);
    },
    isOpen: () => false,
  };
}
