// Policy `resilience4j`: each sidecar (client instance) wraps its calls to each cluster in a
// resilience4j CircuitBreaker (sim/policies/circuit-breaker.ts) with the README's settings.
// A request picks a cluster by the operator's base weights; when that cluster's breaker does
// not permit the call, the client falls back to another cluster whose breaker permits it (by
// weight among them), the usual fallback of a multi-region client; when none permits, the call
// fails locally (CallNotPermittedException → the client sees a 503). Hosts in each client's own
// round robin (RoundRobinHosts); no host ejection.
import type { Scenario } from "../scenario.js";
import { CircuitBreaker, resilience4jConfig } from "./circuit-breaker.js";
import { RoundRobinHosts, weightedPick, type Policy, type RouteDecision, type SimRequest } from "../policy.js";

export function createResilience4jPolicy(scenario: Scenario): Policy {
  const weights = scenario.clusters.map((c) => c.weight);
  const config = resilience4jConfig(scenario.slo.latency_ms);
  const breakers = Array.from({ length: scenario.sidecars }, () => scenario.clusters.map(() => new CircuitBreaker(config)));
  const hosts = new RoundRobinHosts(scenario.clusters.map((c) => c.endpoints), scenario.sidecars, scenario.seed);
  /** Requests whose call holds a permit of a breaker: completion must report to it. */
  return {
    name: "resilience4j",
    route(request: SimRequest, nowS: number): RouteDecision {
      const mine = breakers[request.sidecar]!;
      const first = weightedPick(weights, request.routeDraw);
      if (mine[first]!.tryAcquirePermission(nowS)) return { cluster: first, host: hosts.pick(request.sidecar, first) };
      const others = weights.map((w, c) => (c === first ? 0 : w));
      // Fall back in weighted order among the other clusters, skipping those that refuse.
      for (let tries = 0; tries < weights.length - 1; tries++) {
        const c = weightedPick(others, request.spareDraw);
        if (c < 0) break;
        if (mine[c]!.tryAcquirePermission(nowS)) return { cluster: c, host: hosts.pick(request.sidecar, c) };
        others[c] = 0;
      }
      return { reject: "circuit breaker open" };
    },
    complete(request, cluster, _host, status, latencyMs, nowS) {
      breakers[request.sidecar]![cluster]!.onResult(status >= 500, latencyMs, nowS);
    },
    nextTimerS: () => Infinity,
    timer() {},
    windowEnd() {},
    isOpen: () => false,
  };
}
