// Envoy's active health checking, per host, as one Envoy (one sidecar) runs it: the HTTP health
// check the shipped bootstrap sets on its LLM clusters (deploy/envoy/envoy.yaml, `health_checks`).
// Used by the `autoglm` policy under the filter (sim/policies/autoglm.ts, option
// `activeHealthCheck`) through EnvoyLoadBalancer (sim/policies/envoy-outlier.ts).
//
// Followed: the config.core.v3.HealthCheck reference
// (https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/core/v3/health_check.proto) and
// Envoy's source, source/extensions/health_checkers/common/health_checker_base_impl.cc
// (formerly source/common/upstream/health_checker_base_impl.cc):
// - Each host has a session with a timer. When it fires, Envoy sends the check and waits up to
//   `timeout`; the next timer is armed when the answer (or the timeout) comes, after
//   HealthCheckerImplBase::interval(): `interval` for a passing check, `unhealthy_interval`
//   (default: interval) for a failing one, and while a change is pending (a host that passed but
//   has not yet reached healthy_threshold, or failed but not yet unhealthy_threshold)
//   `healthy_edge_interval` (default: interval) or `unhealthy_edge_interval` (default:
//   unhealthy_interval). The source's comment spells this out; the API reference words the edge
//   intervals as "the first check right after a host is marked (un)healthy": this follows the code.
//   To each, intervalWithJitter() adds `random() % interval_jitter` milliseconds.
// - ActiveHealthCheckSession::setUnhealthy: a network failure (refused connection, reset,
//   timeout: NETWORK / NETWORK_TIMEOUT) marks the host FAILED_ACTIVE_HC after unhealthy_threshold
//   of them in a row; a non-network failure (an answer with a status outside expected_statuses)
//   marks it at once. Any failure resets the count of passes.
// - handleSuccess: a pass resets the count of failures; a FAILED_ACTIVE_HC host is healthy again
//   after healthy_threshold passes in a row (its very first check ever needs one pass only:
//   `first_check_`, see below).
// - Every completed check runs the callbacks registered with addHostCheckCompleteCb; outlier
//   detection registers one (source/common/upstream/outlier_detection_impl.cc,
//   DetectorImpl::initialize): with successful_active_health_check_uneject_host (default true), a
//   check that passed on a host that is not FAILED_ACTIVE_HC unejects the host at once if it was
//   ejected (EnvoyLoadBalancer applies that).
// - A FAILED_ACTIVE_HC host is not healthy for the load balancer; with fewer than
//   healthy_panic_threshold (default 50 %) of a cluster's hosts healthy Envoy balances over all
//   of them, and with the threshold at 0 (panic mode off, as the shipped bootstrap sets it next
//   to these checks) it never does and answers 503 UH when no host is healthy
//   (EnvoyLoadBalancer.pickHost).
//
// Modelled: what a down host does to checks. In the simulator a host "going down" with chance f
// refuses a request with chance f (sim/faults.ts HostEffect.downChance, sim/upstream.ts), so a
// check sent to it fails with chance f, as a refused connection (a network failure, counted
// toward unhealthy_threshold), answered at once. Other faults (errors, latency, overload) leave
// `/health` answering 200: it is served by the model server's HTTP front end, not by inference.
// The checks add no load worth modelling: a sidecar checks each host once per interval (5 s), a
// request of a few hundred bytes costing the server microseconds of CPU and no accelerator time,
// against LLM requests that each take the accelerator for hundreds of milliseconds.
// Not modelled: `timeout` (a down host refuses at once, nothing in the simulator hangs),
// `no_traffic_interval` (it applies only to a cluster that never had a connection, and every LLM
// cluster carries traffic), `initial_jitter` and the first check's single-pass rule: a run starts
// in steady state, every session long past its first check, each at a phase drawn uniformly over
// one interval (the spread a jittered checker reaches).
import type { Random } from "../random.js";
import { TimedQueue, type Timed } from "../completion-queue.js";

/** Health-check settings, in Envoy's units (milliseconds, counts). */
export interface HealthCheckConfig {
  /** `interval`: between checks of a host that passes, ms. */
  intervalMs: number;
  /** `interval_jitter`: up to this much (uniform, whole ms) is added to every wait, ms. */
  intervalJitterMs: number;
  /** `unhealthy_threshold`: network failures in a row that mark a healthy host failed. */
  unhealthyThreshold: number;
  /** `healthy_threshold`: passes in a row that return a failed host. */
  healthyThreshold: number;
  /** `unhealthy_interval`, ms; Envoy's default: intervalMs. */
  unhealthyIntervalMs?: number;
  /** `unhealthy_edge_interval`, ms, after a failure that leaves a change pending; default: unhealthy interval. */
  unhealthyEdgeIntervalMs?: number;
  /** `healthy_edge_interval`, ms, after a pass that leaves a change pending; default: intervalMs. */
  healthyEdgeIntervalMs?: number;
}

/**
 * The health check of the shipped bootstrap's LLM clusters (deploy/envoy/envoy.yaml; the reasons
 * are in deploy/envoy/README.md). test/deploy-config.test.ts keeps the two equal. `timeoutMs`,
 * `initialJitterMs` and `path` are listed for that comparison; the simulator does not use them
 * (see the header).
 */
export const SHIPPED_HEALTH_CHECK = {
  timeoutMs: 2000,
  intervalMs: 5000,
  intervalJitterMs: 1000,
  initialJitterMs: 5000,
  unhealthyThreshold: 2,
  healthyThreshold: 1,
  unhealthyEdgeIntervalMs: 1000,
  healthyEdgeIntervalMs: 1000,
  path: "/health",
} as const satisfies HealthCheckConfig & { timeoutMs: number; initialJitterMs: number; path: string };

/** Chance, in [0, 1], that host `host` of cluster `cluster` refuses a connection at time atS (seconds). */
export type HostDownChance = (cluster: number, host: number, atS: number) => number;

/** A host marked failed or returned by its checks, for tests and charts. */
export interface HealthCheckEvent {
  atS: number;
  sidecar: number;
  cluster: number;
  host: number;
  kind: "unhealthy" | "healthy";
}

/** Envoy's HealthTransition for the check just recorded. */
export type HealthTransition = "unchanged" | "changed" | "pending";

interface Session {
  /** FAILED_ACTIVE_HC. */
  failed: boolean;
  /** Passes in a row while failed, failures in a row while healthy. */
  numHealthy: number;
  numUnhealthy: number;
}

interface DueCheck extends Timed {
  sidecar: number;
  cluster: number;
  host: number;
}

function checkConfig(config: HealthCheckConfig): void {
  const problems: string[] = [];
  for (const key of ["intervalMs", "unhealthyIntervalMs", "unhealthyEdgeIntervalMs", "healthyEdgeIntervalMs"] as const) {
    const v = config[key];
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) problems.push(`${key}: must be a number > 0 (ms), got ${v}`);
  }
  if (!(Number.isInteger(config.intervalJitterMs) && config.intervalJitterMs >= 0)) problems.push(`intervalJitterMs: must be an integer >= 0 (ms), got ${config.intervalJitterMs}`);
  for (const key of ["unhealthyThreshold", "healthyThreshold"] as const) {
    if (!(Number.isInteger(config[key]) && config[key] >= 1)) problems.push(`${key}: must be an integer >= 1, got ${config[key]}`);
  }
  if (problems.length > 0) throw new Error(`active health check configuration: ${problems.join("; ")}`);
}

/** Active health checking of one or more Envoys (sidecars) over all their clusters' hosts. Time comes in as arguments. */
export class ActiveHealthChecker {
  private readonly config: Required<HealthCheckConfig>;
  /** Per sidecar, cluster, host. */
  private readonly sessions: Session[][][];
  /** Failed hosts per sidecar and cluster. */
  private readonly failedCount: number[][];
  /** Checks due, by (atS, seq). */
  private readonly due = new TimedQueue<DueCheck>();
  private seq = 0;
  readonly events: HealthCheckEvent[] = [];

  /**
   * @param random  this checker's own stream (jitter, the steady-state phase, and whether a check
   *                reaches a host that is partly down); two draws per check
   * @param startS  scenario time the run starts at, seconds
   */
  constructor(hostCounts: readonly number[], sidecars: number, private readonly random: Random, config: HealthCheckConfig = SHIPPED_HEALTH_CHECK, startS = 0) {
    checkConfig(config);
    const unhealthyIntervalMs = config.unhealthyIntervalMs ?? config.intervalMs;
    this.config = {
      intervalMs: config.intervalMs,
      intervalJitterMs: config.intervalJitterMs,
      unhealthyThreshold: config.unhealthyThreshold,
      healthyThreshold: config.healthyThreshold,
      unhealthyIntervalMs,
      unhealthyEdgeIntervalMs: config.unhealthyEdgeIntervalMs ?? unhealthyIntervalMs,
      healthyEdgeIntervalMs: config.healthyEdgeIntervalMs ?? config.intervalMs,
    };
    this.sessions = Array.from({ length: sidecars }, () =>
      hostCounts.map((n) => Array.from({ length: n }, () => ({ failed: false, numHealthy: 0, numUnhealthy: 0 }))),
    );
    this.failedCount = Array.from({ length: sidecars }, () => hostCounts.map(() => 0));
    for (let sidecar = 0; sidecar < sidecars; sidecar++) {
      hostCounts.forEach((n, cluster) => {
        for (let host = 0; host < n; host++) this.due.push({ atS: startS + (random.next() * this.config.intervalMs) / 1000, seq: this.seq++, sidecar, cluster, host });
      });
    }
  }

  /** True while the host fails its checks in this sidecar (FAILED_ACTIVE_HC): out of load balancing. */
  isFailed(sidecar: number, cluster: number, host: number): boolean {
    return this.sessions[sidecar]![cluster]![host]!.failed;
  }

  /** Hosts of the cluster failing their checks in this sidecar. */
  failedHosts(sidecar: number, cluster: number): number {
    return this.failedCount[sidecar]![cluster]!;
  }

  /** Time of the next check due, seconds, or Infinity. */
  nextCheckS(): number {
    return this.due.peekTime();
  }

  /**
   * Runs every check due at or before nowS, in time order. A check passes unless the host refuses
   * it (chance `downChance` at the check's time). `onPassed` is called for each check that passed
   * on a host that is not failed after it (outlier detection's uneject hook).
   */
  runDue(nowS: number, downChance: HostDownChance, onPassed?: (sidecar: number, cluster: number, host: number, atS: number) => void): void {
    while (this.due.peekTime() <= nowS) {
      const check = this.due.pop();
      const refused = this.random.next() < downChance(check.cluster, check.host, check.atS);
      const transition = this.record(check.sidecar, check.cluster, check.host, !refused, check.atS);
      const waitMs = this.waitAfterMs(!refused, transition) + Math.floor(this.random.next() * this.config.intervalJitterMs);
      this.due.push({ atS: check.atS + waitMs / 1000, seq: this.seq++, sidecar: check.sidecar, cluster: check.cluster, host: check.host });
      if (!refused && !this.isFailed(check.sidecar, check.cluster, check.host)) onPassed?.(check.sidecar, check.cluster, check.host, check.atS);
    }
  }

  /**
   * Records one check's result on a host's session (handleSuccess, or setUnhealthy for a network
   * failure) and returns Envoy's transition: "changed" when the host was marked failed or returned,
   * "pending" when it is on its way, "unchanged" otherwise.
   */
  record(sidecar: number, cluster: number, host: number, passed: boolean, atS: number): HealthTransition {
    const s = this.sessions[sidecar]![cluster]![host]!;
    if (passed) {
      s.numUnhealthy = 0;
      if (!s.failed) return "unchanged";
      if (++s.numHealthy !== this.config.healthyThreshold) return "pending";
      s.failed = false;
      this.failedCount[sidecar]![cluster]!--;
      this.events.push({ atS, sidecar, cluster, host, kind: "healthy" });
      return "changed";
    }
    s.numHealthy = 0;
    if (s.failed) return "unchanged";
    if (++s.numUnhealthy !== this.config.unhealthyThreshold) return "pending";
    s.failed = true;
    this.failedCount[sidecar]![cluster]!++;
    this.events.push({ atS, sidecar, cluster, host, kind: "unhealthy" });
    return "changed";
  }

  /** HealthCheckerImplBase::interval() before jitter, ms: by the check's result and the transition it made. */
  waitAfterMs(passed: boolean, transition: HealthTransition): number {
    const c = this.config;
    if (passed) return transition === "pending" ? c.healthyEdgeIntervalMs : c.intervalMs;
    return transition === "pending" ? c.unhealthyEdgeIntervalMs : c.unhealthyIntervalMs;
  }
}
