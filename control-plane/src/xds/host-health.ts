// Per-host health for the endpoints this server serves over EDS: the load reports of every sidecar
// (lrs.ts) are summed per endpoint between two judgements, each judgement runs the mesh-wide
// outlier detection (core/host-outliers.ts) on them, and the hosts it ejects are served as
// health_status UNHEALTHY until it returns them. Envoy and proxyless gRPC clients leave an
// UNHEALTHY endpoint out of load balancing (Envoy: the host's FAILED_EDS_HEALTH flag; Envoy's panic
// threshold still applies). Endpoints the configuration does not list are ignored.
import type { ClusterLoad, HostOutlierConfig, HostOutlierEvent } from "../core/host-outliers.js";
import { HostOutlierDetector, type HostWindowCounts } from "../core/host-outliers.js";
import type { EndpointLoad } from "./lrs.js";
import type { XdsClusterConfig } from "./types.js";
import type { ClusterStatus } from "../core/types.js";

/** "address:port" ("[v6]:port" for IPv6), the key of an endpoint. */
export function endpointKey(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Each cluster's load for a judgement from the control plane's cluster statuses: the newest
 * window's rate, the knee its capacity estimate has seen (Infinity when none), the share of its
 * requests slower than the latency objective (absent when the window does not say), and the
 * objective (`latencyObjectiveMs`, the SLO's). A cluster without a
 * window yet is left out (judged on its reports' load, see HostHealth.judge).
 */
export function clusterLoads(statuses: readonly ClusterStatus[], latencyObjectiveMs: number): Map<string, ClusterLoad> {
  const loads = new Map<string, ClusterLoad>();
  for (const status of statuses) {
    const newest = status.recent.at(-1);
    if (newest === undefined) continue;
    const slowShare = newest.slowRequests !== undefined && newest.requests > 0 ? newest.slowRequests / newest.requests : undefined;
    loads.set(status.cluster, { offeredRps: newest.rps, kneeRps: status.capacity.kneeRps, latencyObjectiveMs, ...(slowShare === undefined ? {} : { slowShare }) });
  }
  return loads;
}

/** A change of an endpoint's health, for logs and metrics. */
export interface EndpointHealthEvent extends Omit<HostOutlierEvent, "cluster" | "host"> {
  cluster: string;
  endpoint: string;
}

export class HostHealth {
  private readonly clusters: readonly XdsClusterConfig[];
  private readonly clusterIndex: Map<string, number>;
  private readonly endpointIndex: Array<Map<string, number>>;
  private readonly detector: HostOutlierDetector;
  private counts: HostWindowCounts[][];
  /** Per sidecar (node id), its reports since the last judgement and, per cluster and host, the
   *  requests in flight summed over them (their mean is the sidecar's share of the host's). */
  private inFlightByReporter = new Map<string, { reports: number; inFlight: number[][] }>();
  /** Time of the last judgement, seconds; undefined before the first. */
  private lastJudgedS: number | undefined;
  /** Reports of endpoints the configuration does not list (ignored). */
  unknownEndpointReports = 0;

  constructor(clusters: readonly XdsClusterConfig[], config: Partial<HostOutlierConfig> = {}) {
    this.clusters = clusters;
    this.clusterIndex = new Map(clusters.map((c, i) => [c.name, i]));
    this.endpointIndex = clusters.map((c) => new Map(c.endpoints.map((e, i) => [endpointKey(e.address, e.port), i])));
    this.detector = new HostOutlierDetector(clusters.map((c) => c.endpoints.length), config);
    this.counts = this.zeroCounts();
  }

  private zeroCounts(): HostWindowCounts[][] {
    return this.clusters.map((c) => c.endpoints.map(() => ({ requests: 0, bad: 0, issued: 0, inFlight: 0 })));
  }

  /** Adds one report of the sidecar `reporter` (its node id). */
  addLoads(loads: readonly EndpointLoad[], reporter = ""): void {
    let mine = this.inFlightByReporter.get(reporter);
    if (mine === undefined) {
      mine = { reports: 0, inFlight: this.clusters.map((c) => c.endpoints.map(() => 0)) };
      this.inFlightByReporter.set(reporter, mine);
    }
    mine.reports++;
    for (const load of loads) {
      const cluster = this.clusterIndex.get(load.cluster);
      const host = cluster === undefined ? undefined : this.endpointIndex[cluster]!.get(endpointKey(load.address, load.port));
      if (cluster === undefined || host === undefined) {
        this.unknownEndpointReports++;
        continue;
      }
      const c = this.counts[cluster]![host]!;
      c.requests += load.successful + load.errors;
      c.bad += load.errors;
      c.issued = (c.issued ?? 0) + load.issued;
      mine.inFlight[cluster]![host]! += load.inProgress;
    }
  }

  /**
   * Judges what was reported since the last judgement (nowS: seconds) with each cluster's load
   * (by cluster name), then starts a new count. A cluster the telemetry gives no load for (clients
   * without the filter) is judged on the load its reports add up to; before a
   * first judgement has set the interval, such a cluster ejects nothing. Returns the health
   * changes it made.
   */
  judge(nowS: number, loads: ReadonlyMap<string, ClusterLoad>): EndpointHealthEvent[] {
    const elapsedS = this.lastJudgedS === undefined ? undefined : nowS - this.lastJudgedS;
    this.lastJudgedS = nowS;
    // Each sidecar's requests in flight, the mean over its reports, summed over sidecars.
    for (const { reports, inFlight } of this.inFlightByReporter.values()) {
      inFlight.forEach((hosts, ci) => hosts.forEach((n, hi) => {
        const c = this.counts[ci]![hi]!;
        c.inFlight = (c.inFlight ?? 0) + n / reports;
      }));
    }
    this.inFlightByReporter.clear();
    const events = this.detector.judgeWindow(this.counts, nowS, this.clusters.map((c, i): ClusterLoad | undefined => {
      const known = loads.get(c.name);
      if (known !== undefined) return known;
      if (elapsedS === undefined || !(elapsedS > 0)) return undefined;
      const requests = this.counts[i]!.reduce((sum, h) => sum + h.requests, 0);
      return { offeredRps: requests / elapsedS };
    }));
    this.counts = this.zeroCounts();
    return events.map(({ cluster, host, ...rest }) => {
      const c = this.clusters[cluster]!;
      const e = c.endpoints[host]!;
      return { ...rest, cluster: c.name, endpoint: endpointKey(e.address, e.port) };
    });
  }

  /** Whether the configuration's `host`-th endpoint of its `cluster`-th cluster is served UNHEALTHY. */
  isUnhealthy(cluster: number, host: number): boolean {
    return this.detector.isEjected(cluster, host);
  }

  /** Endpoints served as UNHEALTHY now, by cluster name ("address:port" keys). */
  unhealthy(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    this.clusters.forEach((c, ci) => {
      c.endpoints.forEach((e, hi) => {
        if (!this.detector.isEjected(ci, hi)) return;
        const set = out.get(c.name) ?? new Set<string>();
        set.add(endpointKey(e.address, e.port));
        out.set(c.name, set);
      });
    });
    return out;
  }
}
