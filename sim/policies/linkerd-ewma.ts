// Policy `linkerd-ewma`: what a mesh of Linkerd proxies does, the balancer users would pick for
// latency problems. Sources followed:
//   - Load balancing: "power of two choices" over endpoints, each scored by its Peak-EWMA
//     latency times its outstanding requests (https://linkerd.io/features/load-balancing/ and
//     https://linkerd.io/2/reference/circuit-breaking/ for where breaking sits in the balancer;
//     the estimator in sim/policies/peak-ewma.ts, decay 10 s).
//   - Circuit breaking: endpoint-level failure accrual, opt-in, here enabled with the documented
//     defaults of the `consecutive-failures` policy: 7 failures in a row, backoff 1 s to 1 min
//     with jitter, then a single probe request (https://linkerd.io/2/reference/circuit-breaking/:
//     an endpoint whose breaker tripped is not selected by the load balancer; when every
//     endpoint is unavailable, requests fail with 503).
//   - Multicluster: a federated service (Linkerd 2.17+, https://linkerd.io/2/features/multicluster/)
//     joins the endpoints of the same service in every linked cluster into one balancer, so one
//     balancer spans all clusters' endpoints and the operator's cluster weights play no part.
//
// In the simulator: one proxy per sidecar, each with its own balancer state (estimates,
// outstanding counts and accrual per endpoint), as every Linkerd proxy balances on what it saw.
// Endpoints are the scenario's hosts (clusters × endpoints). A failure is a 5xx answer or a
// client timeout (504), matching how Linkerd classifies HTTP responses. Approximations: the two
// choices come from the request's own uniform draws (so every policy meets the same luck); when
// no endpoint is ready the request fails at once with 503 (Linkerd queues it briefly first, up
// to its fail-fast timeout); the latency sample is the answer's latency as the client saw it.
import type { Scenario } from "../scenario.js";
import { STREAM, Xoshiro128 } from "../random.js";
import type { Policy, RouteDecision, SimRequest } from "../policy.js";
import { ConsecutiveFailures, PeakEwma } from "./peak-ewma.js";

interface Endpoint {
  cluster: number;
  host: number;
}

/** One Linkerd proxy's balancer over the pooled endpoints. */
class ProxyBalancer {
  readonly ewma: PeakEwma[];
  readonly accrual: ConsecutiveFailures[];
  readonly pending: number[];
  /** Indices of ready endpoints, rebuilt per request (reused buffer). */
  private readonly ready: number[] = [];

  constructor(count: number) {
    this.ewma = Array.from({ length: count }, () => new PeakEwma());
    this.accrual = Array.from({ length: count }, () => new ConsecutiveFailures());
    this.pending = new Array<number>(count).fill(0);
  }

  /** Power of two choices among ready endpoints by Peak-EWMA × (outstanding + 1); -1 when none is ready. */
  pick(u1: number, u2: number, nowS: number): number {
    const ready = this.ready;
    ready.length = 0;
    for (let i = 0; i < this.accrual.length; i++) if (this.accrual[i]!.ready(nowS)) ready.push(i);
    if (ready.length === 0) return -1;
    if (ready.length === 1) return ready[0]!;
    const a = Math.min(ready.length - 1, Math.floor(u1 * ready.length));
    let b = Math.min(ready.length - 2, Math.floor(u2 * (ready.length - 1)));
    if (b >= a) b++;
    const ea = ready[a]!;
    const eb = ready[b]!;
    return this.load(eb, nowS) < this.load(ea, nowS) ? eb : ea;
  }

  load(endpoint: number, nowS: number): number {
    return this.ewma[endpoint]!.estimateAt(nowS) * (this.pending[endpoint]! + 1);
  }
}

export function createLinkerdEwmaPolicy(scenario: Scenario, seed: number): Policy {
  const endpoints: Endpoint[] = [];
  const index: number[][] = scenario.clusters.map((c, cluster) =>
    Array.from({ length: c.endpoints }, (_, host) => endpoints.push({ cluster, host }) - 1),
  );
  const proxies = Array.from({ length: scenario.sidecars }, () => new ProxyBalancer(endpoints.length));
  const jitter = new Xoshiro128(seed, STREAM.policy);
  return {
    name: "linkerd-ewma",
    route(request: SimRequest, nowS: number): RouteDecision {
      const proxy = proxies[request.sidecar]!;
      const e = proxy.pick(request.routeDraw, request.spareDraw, nowS);
      if (e < 0) return { reject: "no_ready_endpoint" };
      proxy.pending[e]!++;
      proxy.accrual[e]!.onSend(nowS);
      return endpoints[e]!;
    },
    complete(request, cluster, host, status, latencyMs, nowS) {
      const proxy = proxies[request.sidecar]!;
      const e = index[cluster]![host]!;
      proxy.pending[e] = Math.max(0, proxy.pending[e]! - 1);
      proxy.ewma[e]!.observe(latencyMs, nowS);
      proxy.accrual[e]!.onResult(status >= 500, nowS, jitter.next());
    },
    nextTimerS: () => Infinity,
    timer() {},
    windowEnd() {},
    // No cluster-level breaker: a cluster is cut only through its traffic share.
    isOpen: () => false,
  };
}
