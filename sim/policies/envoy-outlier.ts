// Policy `envoy-outlier`: what a mesh of stock Envoys does with its defaults. Each sidecar is one
// Envoy with its own outlier detection per host (sim/policies/outlier-detection.ts), and traffic
// fails over between clusters by Envoy's priority load with the overprovisioning factor 1.4
// (sim/policies/priority-load.ts).
//
// A request first picks a cluster by the operator's base weights (the route's weighted
// clusters). That cluster is priority 0 of its failover list, the other clusters follow in the
// scenario's order (as an aggregate cluster lists them); the request lands on a level by the
// priority load computed from each cluster's healthy (not ejected) hosts in this sidecar. Within
// a cluster, round robin over hosts in service; when fewer than half of the cluster's hosts are
// in service (Envoy's panic threshold, default 50%:
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/panic_threshold)
// it balances over all of them.
//
// EnvoyLoadBalancer, shared with the autoglm policy, can also run active health checking
// (active-health-check.ts), as the shipped bootstrap does under the filter: a host failing its
// checks (FAILED_ACTIVE_HC) is out of load balancing like an ejected one, counts as not healthy
// for the panic threshold (Envoy's healthy hosts are those with neither flag), and a passing
// check unejects an ejected host. Its panic threshold is a parameter: the shipped bootstrap turns
// panic mode off on the health-checked LLM clusters (SHIPPED_PANIC_THRESHOLD). This baseline runs
// Envoy's defaults, which have no health check and a 50 % panic threshold.
import type { Scenario } from "../scenario.js";
import { OutlierDetector, type OutlierConfig } from "./outlier-detection.js";
import { ActiveHealthChecker, type HealthCheckConfig, type HostDownChance } from "./active-health-check.js";
import { STREAM, Xoshiro128 } from "../random.js";
import { healthScore, priorityLoad } from "./priority-load.js";
import { RoundRobinHosts, weightedPick, type Policy, type RouteDecision, type SimRequest } from "../policy.js";

/** Envoy's default panic threshold: below this fraction of healthy hosts, balance over all hosts. */
export const PANIC_THRESHOLD = 0.5;

/**
 * healthy_panic_threshold of the shipped bootstrap's LLM clusters (deploy/envoy/envoy.yaml,
 * common_lb_config), as a fraction: 1 %, set with their active health checks, so panic comes
 * only when no host of the cluster is healthy (clusters of fewer than 100 hosts): then Envoy
 * balances over all of them and the cluster serves the moment it is back (the reasons are in
 * deploy/envoy/README.md, "Health checks"). With panic off (0) and no healthy host, Envoy's load
 * balancer has no host to give and the router answers 503 with response flag UH (no healthy
 * upstream): https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/panic_threshold
 */
export const SHIPPED_PANIC_THRESHOLD = 0.01;

/** pickHost's answer when no host is healthy and panic mode is off: Envoy's 503 UH. */
export const NO_HEALTHY_HOST = -1;

/** Active health checking under a balancer: the settings, what the hosts answer, and the seed. */
export interface ActiveHealthCheckSetup {
  /** Default: SHIPPED_HEALTH_CHECK (deploy/envoy/envoy.yaml). */
  config?: HealthCheckConfig;
  /** Whether a check reaches the host: the scenario's faults (sim/faults.ts, HostEffect.downChance). */
  downChance: HostDownChance;
  /** Seeds the checker's own stream (STREAM.healthChecks): jitter, phase and partly-down hosts. */
  seed: number;
}

/** Per-sidecar Envoy load balancing on top of outlier detection. Shared with the autoglm policy. */
export class EnvoyLoadBalancer {
  readonly detectors: OutlierDetector[];
  /** Active health checking of every sidecar, or null when the clusters have none (Envoy's default). */
  readonly healthChecker: ActiveHealthChecker | null;
  private readonly downChance: HostDownChance | null;
  private readonly hostCounts: number[];
  /** Each sidecar's round robin over each cluster's hosts. */
  private readonly hosts: RoundRobinHosts;
  /** Hosts the control plane's EDS marks UNHEALTHY (in every sidecar), or undefined: none. */
  edsUnhealthy: ((cluster: number, host: number) => boolean) | undefined;

  /**
   * @param panicThreshold  healthy_panic_threshold as a fraction: below it, balance over all hosts;
   *                        0 turns panic mode off (Envoy's default 0.5)
   */
  constructor(scenario: Scenario, outlierConfig: Partial<OutlierConfig> = {}, healthCheck?: ActiveHealthCheckSetup, private readonly panicThreshold = PANIC_THRESHOLD) {
    if (!(panicThreshold >= 0 && panicThreshold <= 1)) throw new Error(`panic threshold: must be a fraction in [0, 1], got ${panicThreshold}`);
    this.hostCounts = scenario.clusters.map((c) => c.endpoints);
    this.detectors = Array.from({ length: scenario.sidecars }, () => new OutlierDetector(this.hostCounts, outlierConfig));
    // Each sidecar's round robin starts at a random host, as Envoy's does (RoundRobinHosts).
    this.hosts = new RoundRobinHosts(this.hostCounts, scenario.sidecars, scenario.seed);
    // Its own stream, so checks never shift the draws of the host pickers or of other policies.
    this.healthChecker = healthCheck === undefined
      ? null
      : new ActiveHealthChecker(this.hostCounts, scenario.sidecars, new Xoshiro128(healthCheck.seed, STREAM.healthChecks), healthCheck.config);
    this.downChance = healthCheck?.downChance ?? null;
  }

  /** True when the host is out of load balancing in this sidecar: ejected, or failing its checks. */
  isOut(sidecar: number, cluster: number, host: number): boolean {
    return this.detectors[sidecar]!.isEjected(cluster, host) || (this.healthChecker?.isFailed(sidecar, cluster, host) ?? false)
      || (this.edsUnhealthy?.(cluster, host) ?? false);
  }

  /** Hosts of the cluster healthy in this sidecar (neither ejected nor failing checks), as Envoy's panic threshold counts them. */
  healthyHosts(sidecar: number, cluster: number): number {
    const detector = this.detectors[sidecar]!;
    if (this.healthChecker === null) return detector.healthyHosts(cluster);
    let healthy = 0;
    for (let host = 0; host < this.hostCounts[cluster]!; host++) if (!this.isOut(sidecar, cluster, host)) healthy++;
    return healthy;
  }

  /**
   * A host of the cluster for a request in this sidecar: round robin over healthy hosts, or over
   * all in panic; NO_HEALTHY_HOST when none is healthy and panic mode is off.
   */
  pickHost(sidecar: number, cluster: number): number {
    const panic = this.healthyHosts(sidecar, cluster) < this.panicThreshold * this.hostCounts[cluster]!;
    const host = this.hosts.pick(sidecar, cluster, panic ? undefined : (h) => this.isOut(sidecar, cluster, h));
    if (host >= 0) return host;
    if (this.panicThreshold === 0) return NO_HEALTHY_HOST;
    return this.hosts.pick(sidecar, cluster);
  }

  /** The cluster a request lands on when `preferred` is its priority 0: Envoy's priority load. */
  failover(sidecar: number, preferred: number, u: number): number {
    const order = [preferred];
    for (let c = 0; c < this.hostCounts.length; c++) if (c !== preferred) order.push(c);
    const scores = order.map((c) => healthScore(this.healthyHosts(sidecar, c), this.hostCounts[c]!));
    if (scores[0] === 100) return preferred;
    const level = weightedPick(priorityLoad(scores), u);
    return order[level < 0 ? 0 : level]!;
  }

  onResult(sidecar: number, cluster: number, host: number, status: number, nowS: number, connectFailed = false): void {
    this.detectors[sidecar]!.onResult(cluster, host, status, nowS, connectFailed);
  }

  /** The next outlier sweep or health check, seconds. */
  nextTimerS(): number {
    let next = this.healthChecker?.nextCheckS() ?? Infinity;
    for (const d of this.detectors) next = Math.min(next, d.nextSweepS());
    return next;
  }

  /** Runs the outlier sweeps and the health checks due at nowS; a passing check unejects its host. */
  timer(nowS: number): void {
    for (const d of this.detectors) if (d.nextSweepS() <= nowS) d.sweep(nowS);
    if (this.healthChecker !== null && this.downChance !== null) {
      this.healthChecker.runDue(nowS, this.downChance, (sidecar, cluster, host, atS) => {
        this.detectors[sidecar]!.onHealthCheckPassed(cluster, host, atS);
      });
    }
  }
}

export function createEnvoyOutlierPolicy(scenario: Scenario): Policy {
  const weights = scenario.clusters.map((c) => c.weight);
  const balancer = new EnvoyLoadBalancer(scenario);
  return {
    name: "envoy-outlier",
    route(request: SimRequest): RouteDecision {
      const preferred = weightedPick(weights, request.routeDraw);
      const cluster = balancer.failover(request.sidecar, preferred, request.spareDraw);
      return { cluster, host: balancer.pickHost(request.sidecar, cluster) };
    },
    complete(request, cluster, host, status, _latencyMs, nowS) {
      balancer.onResult(request.sidecar, cluster, host, status, nowS);
    },
    nextTimerS: () => balancer.nextTimerS(),
    timer: (nowS) => balancer.timer(nowS),
    windowEnd() {},
    isOpen: () => false,
  };
}
