// Policy `none`: the operator's base weights, no breaking and no ejection: a mesh of Envoy
// sidecars without autoglm. Every request goes to a cluster drawn by weight (Envoy's
// weighted_clusters pick a cluster with a random number: RouteEntryImplBase::pickWeightedCluster)
// and to that cluster's hosts in its sidecar's own round robin (RoundRobinHosts).
import type { Scenario } from "../scenario.js";
import { RoundRobinHosts, weightedPick, type Policy, type RouteDecision, type SimRequest } from "../policy.js";

export function createNonePolicy(scenario: Scenario): Policy {
  const weights = scenario.clusters.map((c) => c.weight);
  const hosts = new RoundRobinHosts(scenario.clusters.map((c) => c.endpoints), scenario.sidecars, scenario.seed);
  return {
    name: "none",
    route(request: SimRequest): RouteDecision {
      const cluster = weightedPick(weights, request.routeDraw);
      return { cluster, host: hosts.pick(request.sidecar, cluster) };
    },
    complete() {},
    nextTimerS: () => Infinity,
    timer() {},
    windowEnd() {},
    isOpen: () => false,
  };
}
