// Policy `none`: the operator's base weights, no breaking and no ejection. Every request goes to
// a cluster chosen by weight and to its hosts in round robin.
import type { Scenario } from "../scenario.js";
import { RoundRobinHosts, weightedPick, type Policy, type RouteDecision, type SimRequest } from "../policy.js";

export function createNonePolicy(scenario: Scenario): Policy {
  const weights = scenario.clusters.map((c) => c.weight);
  const hosts = new RoundRobinHosts(scenario.clusters.map((c) => c.endpoints));
  return {
    name: "none",
    route(request: SimRequest): RouteDecision {
      const cluster = weightedPick(weights, request.routeDraw);
      return { cluster, host: hosts.pick(cluster) };
    },
    complete() {},
    nextTimerS: () => Infinity,
    timer() {},
    windowEnd() {},
    isOpen: () => false,
  };
}
