// Envoy's outlier detection, per host, as one Envoy (one sidecar) runs it, with Envoy's defaults.
// Shared by the `envoy-outlier` baseline and by the `autoglm` policy (which runs on top of it,
// as it would inside a real Envoy).
//
// Followed: Envoy docs, "Outlier detection" architecture overview
// (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/outlier) and the
// config.cluster.v3.OutlierDetection reference
// (https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/outlier_detection.proto):
// - consecutive_5xx (default 5, enforcing_consecutive_5xx 100%): a host that returns 5 5xx in a
//   row is ejected inline, at once. Without split_external_local_origin_errors (default false),
//   local-origin failures (refused connections, timeouts) count as 5xx too.
// - interval (default 10 s): the analysis sweep. It returns hosts whose ejection time is over to
//   service, runs success-rate detection, and lowers the ejection multiplier of healthy hosts.
// - base_ejection_time (default 30 s): a host is ejected for base × the number of times it has
//   been ejected in a row, at most max_ejection_time (default 300 s). Each sweep at which a host
//   is not ejected and was healthy lowers that multiplier by one.
// - max_ejection_percent (default 10%): a host is not ejected when that would eject more than
//   10% of the cluster's hosts, but at least one host may always be ejected.
// - success rate (enforcing_success_rate default 100%): at each sweep, when at least
//   success_rate_minimum_hosts (5) hosts had at least success_rate_request_volume (100) requests
//   in the interval, a host whose success rate is below mean − stdev × success_rate_stdev_factor
//   / 1000 (1900 → 1.9) is ejected.
// - failure_percentage and consecutive_gateway_failure enforcement default to 0%: not run.
// - successful_active_health_check_uneject_host (default true): with active health checking on
//   the cluster, a check that passes on an ejected host unejects it at once and clears its
//   consecutive-failure counts (source/common/upstream/outlier_detection_impl.cc,
//   DetectorImpl::initialize and unejectHost); see active-health-check.ts. Without active health
//   checking (Envoy's default, and the envoy-outlier baseline) it does nothing.
// - split_external_local_origin_errors (off by default; LOCAL_ORIGIN_ONLY below turns it on): a
//   refused connection is a local-origin failure, counted only toward
//   consecutive_local_origin_failure (default 5, enforced), and a connection made resets that
//   count; answered 5xx count toward consecutive_5xx and the success rate as before.
// Ejected hosts are left out of load balancing unless the cluster is in panic (see RoundRobinHosts).

/** Envoy's defaults (seconds, counts, percent). */
export const ENVOY_OUTLIER_DEFAULTS = {
  consecutive5xx: 5,
  intervalS: 10,
  baseEjectionTimeS: 30,
  maxEjectionTimeS: 300,
  maxEjectionPercent: 10,
  successRateMinimumHosts: 5,
  successRateRequestVolume: 100,
  successRateStdevFactor: 1900,
  /** split_external_local_origin_errors as 0 (false, Envoy's default) or 1 (true). */
  splitExternalLocalOriginErrors: 0,
  consecutiveLocalOriginFailure: 5,
  /** enforcing_consecutive_5xx and enforcing_success_rate, percent: only 0 (never) and 100 are modelled. */
  enforcingConsecutive5xx: 100,
  enforcingSuccessRate: 100,
  /** successful_active_health_check_uneject_host as 0 (false) or 1 (true, Envoy's default). */
  successfulActiveHealthCheckUnejectHost: 1,
} as const;

export type OutlierConfig = { -readonly [K in keyof typeof ENVOY_OUTLIER_DEFAULTS]: number };

/**
 * Outlier detection that ejects only hosts that do not answer: split_external_local_origin_errors
 * true, consecutive_local_origin_failure 5 (enforced, Envoy's default), enforcing_consecutive_5xx 0
 * and enforcing_success_rate 0, so a host answering 5xx (overload, errors) stays in service and
 * the cluster-level decisions stay autoglm's. max_ejection_percent 50: a refusing host serves
 * nothing, but outlier detection alone never takes more than half of a cluster (with Envoy's 50 %
 * panic threshold, below half the hosts it balances over all of them anyway); under the shipped
 * bootstrap, hosts beyond that which stay down are held out by their failing health checks
 * (active-health-check.ts).
 * max_ejection_time 30 s (the base ejection time): a host ejected again and again while down
 * (Envoy multiplies the ejection time up to 300 s by default) is back within 30 s of its
 * recovery, instead of leaving its cluster short of capacity for minutes after a fault.
 * Envoy docs: config.cluster.v3.OutlierDetection (split_external_local_origin_errors,
 * consecutive_local_origin_failure, enforcing_consecutive_local_origin_failure).
 */
export const LOCAL_ORIGIN_ONLY: Partial<OutlierConfig> = {
  splitExternalLocalOriginErrors: 1,
  enforcingConsecutive5xx: 0,
  enforcingSuccessRate: 0,
  maxEjectionPercent: 50,
  maxEjectionTimeS: 30,
};

interface HostMonitor {
  consecutive5xx: number;
  /** Ejected since (seconds), or undefined when in service. */
  ejectedAtS: number | undefined;
  /** Times ejected in a row: the ejection-time multiplier. */
  multiplier: number;
  /** Requests and successes in the current interval (for success-rate detection). */
  intervalRequests: number;
  intervalSuccesses: number;
  /** Saw a 5xx in the current interval. */
  failedThisInterval: boolean;
  /** Refused connections in a row (split_external_local_origin_errors only). */
  consecutiveLocalOrigin: number;
}

/** An ejection or return to service, for tests and charts. */
export interface OutlierEvent {
  atS: number;
  cluster: number;
  host: number;
  kind: "eject" | "uneject";
  reason: "consecutive_5xx" | "consecutive_local_origin_failure" | "success_rate" | "time_served" | "active_health_check";
}

/** Outlier detection of one Envoy over all its clusters. Pure: time comes in as arguments. */
export class OutlierDetector {
  private readonly config: OutlierConfig;
  private readonly hosts: HostMonitor[][];
  private readonly ejectedCount: number[];
  private nextSweep: number;
  readonly events: OutlierEvent[] = [];

  constructor(hostCounts: readonly number[], config: Partial<OutlierConfig> = {}, startS = 0) {
    this.config = { ...ENVOY_OUTLIER_DEFAULTS, ...config };
    this.hosts = hostCounts.map((n) =>
      Array.from({ length: n }, () => ({
        consecutive5xx: 0, ejectedAtS: undefined, multiplier: 0, intervalRequests: 0, intervalSuccesses: 0, failedThisInterval: false,
        consecutiveLocalOrigin: 0,
      })),
    );
    this.ejectedCount = hostCounts.map(() => 0);
    this.nextSweep = startS + this.config.intervalS;
  }

  isEjected(cluster: number, host: number): boolean {
    return this.hosts[cluster]![host]!.ejectedAtS !== undefined;
  }

  /** Hosts of the cluster in service (not ejected). */
  healthyHosts(cluster: number): number {
    return this.hosts[cluster]!.length - this.ejectedCount[cluster]!;
  }

  hostCount(cluster: number): number {
    return this.hosts[cluster]!.length;
  }

  /** Most hosts of a cluster that may be ejected at once: max_ejection_percent, but at least one. */
  maxEjected(cluster: number): number {
    return Math.max(1, Math.floor((this.hosts[cluster]!.length * this.config.maxEjectionPercent) / 100));
  }

  /**
   * Records the result of a request to a host: status >= 500 (incl. 503 refusals, 504 timeouts) is
   * a failure. `connectFailed`: a refused connection (local origin). With
   * split_external_local_origin_errors it counts toward consecutive_local_origin_failure only;
   * without, it is one more 5xx.
   */
  onResult(cluster: number, host: number, status: number, nowS: number, connectFailed = false): void {
    const m = this.hosts[cluster]![host]!;
    if (this.config.splitExternalLocalOriginErrors === 1) {
      // Split: a refused connection is not an answer of the host, so the (external) success rate
      // leaves it out.
      if (connectFailed) {
        m.failedThisInterval = true;
        m.consecutiveLocalOrigin++;
        if (m.consecutiveLocalOrigin >= this.config.consecutiveLocalOriginFailure && m.ejectedAtS === undefined) {
          m.consecutiveLocalOrigin = 0;
          this.eject(cluster, host, nowS, "consecutive_local_origin_failure");
        }
        return;
      }
      // A connection made resets the local-origin run (Envoy: a successful connect, LOCAL_ORIGIN_CONNECT_SUCCESS).
      m.consecutiveLocalOrigin = 0;
    }
    m.intervalRequests++;
    if (status >= 500) {
      m.failedThisInterval = true;
      m.consecutive5xx++;
      if (m.consecutive5xx >= this.config.consecutive5xx && m.ejectedAtS === undefined && this.config.enforcingConsecutive5xx >= 100) {
        // Inline ejection; the counter restarts whether or not the cap allowed the ejection.
        m.consecutive5xx = 0;
        this.eject(cluster, host, nowS, "consecutive_5xx");
      }
    } else {
      m.consecutive5xx = 0;
      m.intervalSuccesses++;
    }
  }

  private eject(cluster: number, host: number, nowS: number, reason: OutlierEvent["reason"]): boolean {
    if (this.ejectedCount[cluster]! + 1 > this.maxEjected(cluster)) return false;
    const m = this.hosts[cluster]![host]!;
    m.ejectedAtS = nowS;
    m.multiplier++;
    this.ejectedCount[cluster]!++;
    this.events.push({ atS: nowS, cluster, host, kind: "eject", reason });
    return true;
  }

  /**
   * A check of the active health checker passed on this host and left it healthy: with
   * successful_active_health_check_uneject_host, an ejected host returns to service at once and
   * its consecutive-failure counts restart (Envoy's DetectorImpl::unejectHost; the ejection
   * multiplier is left to the sweeps, as there). Returns whether it was unejected.
   */
  onHealthCheckPassed(cluster: number, host: number, nowS: number): boolean {
    const m = this.hosts[cluster]![host]!;
    if (this.config.successfulActiveHealthCheckUnejectHost !== 1 || m.ejectedAtS === undefined) return false;
    this.uneject(cluster, host, nowS, "active_health_check");
    return true;
  }

  /** Returns an ejected host to service; its consecutive-failure counts restart. */
  private uneject(cluster: number, host: number, nowS: number, reason: OutlierEvent["reason"]): void {
    const m = this.hosts[cluster]![host]!;
    m.ejectedAtS = undefined;
    m.consecutive5xx = 0;
    m.consecutiveLocalOrigin = 0;
    this.ejectedCount[cluster]!--;
    this.events.push({ atS: nowS, cluster, host, kind: "uneject", reason });
  }

  /** Ejection time of a host ejected now, seconds: base × multiplier, at most max_ejection_time. */
  ejectionTimeS(cluster: number, host: number): number {
    const m = this.hosts[cluster]![host]!;
    return Math.min(this.config.baseEjectionTimeS * Math.max(1, m.multiplier), Math.max(this.config.maxEjectionTimeS, this.config.baseEjectionTimeS));
  }

  /** Time of the next interval sweep, seconds. */
  nextSweepS(): number {
    return this.nextSweep;
  }

  /** The interval sweep: return served hosts, success-rate detection, multiplier decay. */
  sweep(nowS: number): void {
    this.nextSweep = nowS + this.config.intervalS;
    this.hosts.forEach((monitors, cluster) => {
      monitors.forEach((m, host) => {
        if (m.ejectedAtS !== undefined) {
          if (nowS - m.ejectedAtS >= this.ejectionTimeS(cluster, host) - 1e-9) this.uneject(cluster, host, nowS, "time_served");
        } else if (!m.failedThisInterval && m.multiplier > 0) {
          m.multiplier--;
        }
      });
      this.successRateSweep(cluster, nowS);
      for (const m of monitors) {
        m.intervalRequests = 0;
        m.intervalSuccesses = 0;
        m.failedThisInterval = false;
      }
    });
  }

  private successRateSweep(cluster: number, nowS: number): void {
    const monitors = this.hosts[cluster]!;
    const rates: { host: number; rate: number }[] = [];
    monitors.forEach((m, host) => {
      if (m.ejectedAtS === undefined && m.intervalRequests >= this.config.successRateRequestVolume) {
        rates.push({ host, rate: m.intervalSuccesses / m.intervalRequests });
      }
    });
    if (this.config.enforcingSuccessRate < 100 || rates.length < this.config.successRateMinimumHosts) return;
    const mean = rates.reduce((s, r) => s + r.rate, 0) / rates.length;
    const variance = rates.reduce((s, r) => s + (r.rate - mean) ** 2, 0) / rates.length;
    const threshold = mean - Math.sqrt(variance) * (this.config.successRateStdevFactor / 1000);
    for (const r of rates) {
      if (r.rate < threshold) this.eject(cluster, r.host, nowS, "success_rate");
    }
  }
}
