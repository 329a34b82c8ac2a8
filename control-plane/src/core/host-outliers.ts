// Mesh-wide outlier detection of single hosts: a host whose requests fail clearly more often
// than its own cluster's other hosts, counted over every sidecar, is taken out of load balancing
// for a while (the control plane then serves it as UNHEALTHY over EDS: xds/host-health.ts).
//
// Why relative, and why mesh-wide. Envoy's own outlier detection runs in each sidecar on what that
// sidecar alone saw (source/common/upstream/outlier_detection_impl.cc): consecutive_5xx cannot
// tell a host answering errors from a cluster shedding load (both answer 503), and success-rate
// ejection needs success_rate_request_volume (100) requests per host per interval in one sidecar,
// which a fleet of many sidecars rarely gives each. Here a host's bad fraction is compared with
// the pooled bad fraction of its peers, the better half of the cluster's other hosts in service
// (so a second sick host does not hide the first): under a cluster-wide overload or fault every
// host goes bad alike and nothing is ejected (the cluster is the planner's).
//
// First, do no harm. A host is ejected only when
// - its excess over its peers is both large (`minExcess`, absolute) and sure (`zScore` binomial
//   standard errors of the peers' fraction on its own requests), two windows in a row (a load
//   peak makes a different host stand out by chance each window; a sick host stays out of line);
// - its peers are good (at most `maxPeersBad`): otherwise the cluster suffers as a whole;
// - the hosts left carry the cluster's load under their share of its knee (the load where its
//   latency was seen to turn up; none seen: no bound), a knee learnt while every host was in
//   service and none stood out: a sick host raises the cluster's latency, so a knee learnt while
//   it is in is the sick host's, and it would block the very ejection that serves the load well;
// - at most `maxEjectedFraction` of the hosts are out (at least one of two or more);
// - and it was not rolled back within the last ejection base: when the healthy hosts go bad
//   within a base of an ejection (the ejection overloaded them, or the cluster now fails as a
//   whole), the hosts ejected then come back at once, and from then on ejections keep the load
//   per host in service under `rollbackLoadMargin` of the load per host they went bad at.
// Ejection time as Envoy's (base_ejection_time × times ejected in a row, at most
// max_ejection_time): a host still sick when it returns goes out again for longer; a host that
// stays in service for a whole base after its return has its count forgiven.
//
// Slow hosts. A host that answers, but slowly, is judged by Little's law: the requests it holds
// in flight (Envoy's rq_active, LRS total_requests_in_progress), summed over every sidecar, are
// the rate of requests sent to it times its mean latency. Under its peers' latency a host sent s
// requests holds about s × (peers' in flight / peers' requests sent), a Poisson count; a host
// holding `minSlowdown` times that, by `zScore` standard errors, is slow. Counted as they are
// sent, not as they end: a host so slow that it finishes nothing in a window is the clearest case.
// It is ejected only when clients feel it: its mean latency (in flight / rate sent) is over the
// latency objective, or its cluster misses the objective (more than `latencyMissShare` of the
// newest window's requests slower than it). The same guards hold (peers, cap, two windows in a
// row), and an ejection is rolled back when the hosts left become `minSlowdown` times slower than
// its peers were.
//
// Pure: time (seconds) and the counts come in as arguments; no I/O.

/** What one host served in one window, summed over every sidecar. */
export interface HostWindowCounts {
  /** Requests answered (or failed) in the window. */
  requests: number;
  /** Of those, failed (5xx: Envoy's load reports count these as errors). */
  bad: number;
  /** Requests sent to it in the window (Envoy's rq_total; LRS total_issued_requests); absent:
   *  not reported, and its latency is not judged. */
  issued?: number;
  /** Requests in flight to it: per sidecar the mean over its reports in the window (Envoy's
   *  rq_active), summed over sidecars; absent: not reported, and its latency is not judged. */
  inFlight?: number;
}

export interface HostOutlierConfig {
  /** Fewest requests a host needs in a window to be judged. */
  minRequests: number;
  /** Binomial standard errors the host's bad fraction must exceed its peers' by. */
  zScore: number;
  /** Least absolute excess of the host's bad fraction over its peers' (fraction, 0..1). */
  minExcess: number;
  /** Most of a cluster's hosts out at once (fraction); at least one of two or more. */
  maxEjectedFraction: number;
  /** Ejection time per ejection in a row, seconds (Envoy base_ejection_time). */
  baseEjectionS: number;
  /** Longest ejection, seconds (Envoy max_ejection_time). */
  maxEjectionS: number;
  /** Most a host's peers may go bad (fraction) for it to be judged: above, the cluster suffers as a whole. */
  maxPeersBad: number;
  /** After a rollback, ejections keep the load per host in service under this fraction of the load per host they went bad at. */
  rollbackLoadMargin: number;
  /** A host is slow when it holds this many times the requests in flight its peers' latency predicts (mean latency ratio). */
  minSlowdown: number;
  /** Slow hosts are ejected only while more than this share of the cluster's requests miss the latency objective (0.01: the objective is a p99). */
  latencyMissShare: number;
}

/** A cluster's load, requests per second, where its latency turned up, and its latency against the objective. */
export interface ClusterLoad {
  offeredRps: number;
  /** Lowest load at which the cluster's latency rose well above its baseline; Infinity or absent if never seen. */
  kneeRps?: number;
  /** Share of the newest window's requests slower than the latency objective; absent: unknown. */
  slowShare?: number;
  /** The latency objective, milliseconds; absent: unknown (with slowShare unknown too, no slow host is ejected). */
  latencyObjectiveMs?: number;
}

export const DEFAULT_HOST_OUTLIER_CONFIG: Readonly<HostOutlierConfig> = Object.freeze({
  minRequests: 20,
  zScore: 5,
  minExcess: 0.1,
  maxEjectedFraction: 0.5,
  baseEjectionS: 30,
  maxEjectionS: 300,
  maxPeersBad: 0.05,
  rollbackLoadMargin: 0.8,
  minSlowdown: 3,
  latencyMissShare: 0.01,
});

/** One host's ejection state. */
interface HostState {
  /** Out of load balancing until this time (seconds); undefined: in service. */
  ejectedUntilS: number | undefined;
  /** Ejections in a row (the ejection-time multiplier). */
  times: number;
  /** Last return to service (seconds), to forgive `times` after a good spell. */
  returnedAtS: number | undefined;
  /** Last ejection (seconds). */
  ejectedAtS: number | undefined;
  /** Not to be ejected again before this time (seconds): its last ejection hurt its peers. */
  heldUntilS: number | undefined;
  /** Judged an outlier in the last window: a second window in a row ejects it. */
  suspect: boolean;
}

export interface HostOutlierEvent {
  atS: number;
  cluster: number;
  host: number;
  /** "return": its time served; "rollback": its peers went bad after it went out. */
  kind: "eject" | "return" | "rollback";
  /** Why it was ejected: it failed more than its peers, or it was slower. */
  reason?: "errors" | "latency";
  /** The host's bad fraction and its peers' when ejected. */
  badFraction?: number;
  peersBadFraction?: number;
  /** Its mean latency over its peers' (from requests in flight) when ejected for latency. */
  slowdown?: number;
}

/** A host judged out of line in one window. */
interface Outlier {
  host: number;
  reason: "errors" | "latency";
  /** Bad fractions (errors), or the slowdown (latency). */
  bad: number;
  peers: number;
  /** How far out of line, for the order within a reason. */
  excess: number;
}

/** The detector over a fleet's clusters, each with a fixed number of hosts. */
export class HostOutlierDetector {
  private readonly config: HostOutlierConfig;
  private readonly hosts: HostState[][];
  /** Per cluster: load per host in service (requests per second) at which hosts went bad after an ejection; Infinity until a rollback. */
  private readonly hostLoadBoundRps: number[];
  /** Per cluster: the peers' requests in flight per request sent, at its latest ejection for latency (NaN: none). */
  private readonly peersInFlightPerRequest: number[];
  /** Per cluster: the knee as learnt while every host was in service and none stood out (a knee learnt with a sick host in is the host's). */
  private readonly cleanKneeRps: number[];
  /** The changes of the judgement under way (judgeWindow returns them). */
  private events: HostOutlierEvent[] = [];
  /** Time of the last judgement, seconds (the counts span the time since). */
  private lastJudgedS: number | undefined;

  constructor(hostCounts: readonly number[], config: Partial<HostOutlierConfig> = {}) {
    this.config = { ...DEFAULT_HOST_OUTLIER_CONFIG, ...config };
    this.hostLoadBoundRps = hostCounts.map(() => Infinity);
    this.peersInFlightPerRequest = hostCounts.map(() => Number.NaN);
    this.cleanKneeRps = hostCounts.map(() => Infinity);
    this.hosts = hostCounts.map((n) => Array.from({ length: n }, () => ({ ejectedUntilS: undefined, times: 0, returnedAtS: undefined, ejectedAtS: undefined, heldUntilS: undefined, suspect: false })));
  }

  isEjected(cluster: number, host: number): boolean {
    return this.hosts[cluster]![host]!.ejectedUntilS !== undefined;
  }

  /**
   * Judges one window (`counts[cluster][host]`, nowS: the window's end): returns hosts whose time
   * is served; rolls back the ejections of the last ejection base when the hosts left in service
   * went bad (the ejection overloaded them, or the cluster now suffers as a whole) and holds those
   * hosts in for a base; then ejects the clear outliers of each cluster, worst first, within the
   * cap, and only while the hosts left carry the cluster's load below their share of its clean
   * knee and the bound a rollback taught (`loads[cluster]`; a cluster whose load is unknown ejects
   * nothing).
   * Returns the changes it made, in order.
   */
  judgeWindow(counts: readonly (readonly HostWindowCounts[])[], nowS: number, loads: readonly (ClusterLoad | undefined)[]): HostOutlierEvent[] {
    this.events = [];
    const windowS = this.lastJudgedS === undefined ? undefined : nowS - this.lastJudgedS;
    this.lastJudgedS = nowS;
    counts.forEach((clusterCounts, cluster) => {
      const states = this.hosts[cluster]!;
      for (let host = 0; host < states.length; host++) this.returnIfServed(cluster, host, nowS);
      if (states.length < 2) return;
      const inServiceBefore = states.filter((s) => s.ejectedUntilS === undefined).length;
      if (this.rollBack(cluster, nowS, this.betterHalfBadFraction(clusterCounts, states) > this.config.maxPeersBad || this.peersSlowedDown(cluster, clusterCounts, states))) {
        // What the rollback teaches: this many hosts could not carry this load.
        const load = loads[cluster];
        if (load !== undefined && inServiceBefore > 0) {
          this.hostLoadBoundRps[cluster] = Math.min(this.hostLoadBoundRps[cluster]!, load.offeredRps / inServiceBefore);
        }
        for (const s of states) s.suspect = false;
        return;
      }
      const load = loads[cluster];
      if (load === undefined) {
        for (const s of states) s.suspect = false;
        return;
      }
      const cap = Math.max(1, Math.floor(states.length * this.config.maxEjectedFraction));
      let ejected = states.filter((s) => s.ejectedUntilS !== undefined).length;
      const found = [...this.outliers(clusterCounts, states), ...this.slowOutliers(clusterCounts, states, load, windowS)];
      // A host is ejected on its second window in a row as an outlier: a load peak makes a
      // different host stand out by chance each window; a sick host stays out of line.
      const wasSuspect = states.map((s) => s.suspect);
      const knee = load.kneeRps ?? Infinity;
      const clean = found.length === 0 && !wasSuspect.some(Boolean) && states.every((s) => s.ejectedUntilS === undefined);
      if (knee >= this.cleanKneeRps[cluster]! || clean) this.cleanKneeRps[cluster] = knee;
      for (const s of states) s.suspect = false;
      for (const o of found) states[o.host]!.suspect = true;
      for (const o of found) {
        if (!wasSuspect[o.host] || states[o.host]!.ejectedUntilS !== undefined) continue;
        if (ejected >= cap) break;
        if (states[o.host]!.heldUntilS !== undefined && nowS < states[o.host]!.heldUntilS!) continue;
        const leftInService = states.length - ejected - 1;
        if (leftInService <= 0) break;
        const perHostLimit = Math.min(this.cleanKneeRps[cluster]! / states.length, this.hostLoadBoundRps[cluster]! * this.config.rollbackLoadMargin);
        if (load.offeredRps / leftInService >= perHostLimit) break;
        this.eject(cluster, o, nowS);
        ejected++;
      }
    });
    return this.events;
  }

  /**
   * Pooled bad fraction of the better half of the hosts in service that served requests (a sick
   * host not yet ejected does not count; the healthy ones going bad does); 0 below minRequests.
   */
  private betterHalfBadFraction(counts: readonly HostWindowCounts[], states: readonly HostState[]): number {
    const inService = counts
      .filter((c, host) => states[host]!.ejectedUntilS === undefined && c.requests > 0)
      .sort((a, b) => a.bad / a.requests - b.bad / b.requests);
    const better = inService.slice(0, Math.ceil(inService.length / 2));
    const requests = better.reduce((sum, c) => sum + c.requests, 0);
    return requests < this.config.minRequests ? 0 : better.reduce((sum, c) => sum + c.bad, 0) / requests;
  }

  /**
   * Whether the better half of the hosts in service (by requests in flight per request) became
   * minSlowdown times slower than the peers of the cluster's latest latency ejection were.
   */
  private peersSlowedDown(cluster: number, counts: readonly HostWindowCounts[], states: readonly HostState[]): boolean {
    const before = this.peersInFlightPerRequest[cluster]!;
    if (!(before > 0)) return false;
    const inService = latencySamples(counts, states);
    const better = inService.slice(0, Math.ceil(inService.length / 2));
    const issued = better.reduce((sum, c) => sum + c.issued, 0);
    if (issued < this.config.minRequests) return false;
    return better.reduce((sum, c) => sum + c.inFlight, 0) / issued >= this.config.minSlowdown * before;
  }

  /**
   * When the healthy hosts went bad (`healthyWentBad`: failing over maxPeersBad, or slowed down),
   * returns the hosts ejected within the last ejection base and holds them in for a base. Returns
   * whether it rolled back.
   */
  private rollBack(cluster: number, nowS: number, healthyWentBad: boolean): boolean {
    if (!healthyWentBad) return false;
    let rolledBack = false;
    this.hosts[cluster]!.forEach((s, host) => {
      if (s.ejectedUntilS === undefined || s.ejectedAtS === undefined || nowS - s.ejectedAtS >= this.config.baseEjectionS) return;
      s.ejectedUntilS = undefined;
      s.returnedAtS = nowS;
      s.heldUntilS = nowS + this.config.baseEjectionS;
      this.events.push({ atS: nowS, cluster, host, kind: "rollback" });
      rolledBack = true;
    });
    return rolledBack;
  }

  /**
   * Hosts in service whose bad fraction clearly exceeds their peers', worst first. A host's peers
   * are the better half of the other hosts in service (by bad fraction, pooled): a second sick
   * host must not hide the first, and under a cluster-wide fault every host is like the others.
   */
  private outliers(counts: readonly HostWindowCounts[], states: readonly HostState[]): Outlier[] {
    const inService = counts
      .map((c, host) => ({ host, requests: c.requests, bad: c.bad }))
      .filter((c) => states[c.host]!.ejectedUntilS === undefined && c.requests > 0)
      .sort((a, b) => a.bad / a.requests - b.bad / b.requests);
    const found: Outlier[] = [];
    for (const c of inService) {
      if (c.requests < this.config.minRequests) continue;
      const others = inService.filter((o) => o.host !== c.host);
      const better = others.slice(0, Math.ceil(others.length / 2));
      const peerRequests = better.reduce((sum, o) => sum + o.requests, 0);
      if (peerRequests < this.config.minRequests) continue;
      const peers = better.reduce((sum, o) => sum + o.bad, 0) / peerRequests;
      const bad = c.bad / c.requests;
      const excess = bad - peers;
      // The peers' fraction, kept off 0 and 1 by one request, as the null hypothesis's rate.
      const p = Math.min(Math.max(peers, 1 / peerRequests), 1 - 1 / peerRequests);
      const z = excess / Math.sqrt((p * (1 - p)) / c.requests);
      if (peers <= this.config.maxPeersBad && excess >= this.config.minExcess && z >= this.config.zScore) found.push({ host: c.host, reason: "errors", bad, peers, excess });
    }
    return found.sort((a, b) => b.excess - a.excess);
  }

  /**
   * Hosts in service clearly slower than their peers (the better half of the other hosts in
   * service by requests in flight per request sent), slowest first, among those clients feel: the
   * host's mean latency (in flight over the rate sent, `windowS` the span of the counts) is over
   * the objective, or the cluster misses it now. A host's expected in-flight count under its
   * peers' latency is sent × (peers' in flight / peers' sent), kept off 0 by one request.
   */
  private slowOutliers(counts: readonly HostWindowCounts[], states: readonly HostState[], load: ClusterLoad, windowS: number | undefined): Outlier[] {
    const clusterMisses = load.slowShare !== undefined && load.slowShare > this.config.latencyMissShare;
    const objectiveS = load.latencyObjectiveMs === undefined || windowS === undefined || !(windowS > 0) ? undefined : load.latencyObjectiveMs / 1000;
    if (!clusterMisses && objectiveS === undefined) return [];
    const inService = latencySamples(counts, states);
    const found: Outlier[] = [];
    for (const c of inService) {
      if (c.issued < this.config.minRequests) continue;
      const meanLatencyS = windowS === undefined ? undefined : c.inFlight / (c.issued / windowS);
      if (!clusterMisses && !(objectiveS !== undefined && meanLatencyS !== undefined && meanLatencyS > objectiveS)) continue;
      const others = inService.filter((o) => o.host !== c.host);
      const better = others.slice(0, Math.ceil(others.length / 2));
      const peerIssued = better.reduce((sum, o) => sum + o.issued, 0);
      if (peerIssued < this.config.minRequests) continue;
      const peersPerRequest = Math.max(better.reduce((sum, o) => sum + o.inFlight, 0), 1) / peerIssued;
      const expected = c.issued * peersPerRequest;
      const slowdown = c.inFlight / expected;
      const z = (c.inFlight - expected) / Math.sqrt(expected);
      if (slowdown >= this.config.minSlowdown && z >= this.config.zScore) found.push({ host: c.host, reason: "latency", bad: slowdown, peers: peersPerRequest, excess: slowdown });
    }
    return found.sort((a, b) => b.excess - a.excess);
  }

  private eject(cluster: number, o: Outlier, nowS: number): void {
    const s = this.hosts[cluster]![o.host]!;
    s.times++;
    s.suspect = false;
    s.ejectedAtS = nowS;
    s.ejectedUntilS = nowS + Math.min(this.config.baseEjectionS * s.times, this.config.maxEjectionS);
    if (o.reason === "latency") {
      this.peersInFlightPerRequest[cluster] = o.peers;
      this.events.push({ atS: nowS, cluster, host: o.host, kind: "eject", reason: "latency", slowdown: o.bad });
    } else {
      this.events.push({ atS: nowS, cluster, host: o.host, kind: "eject", reason: "errors", badFraction: o.bad, peersBadFraction: o.peers });
    }
  }

  private returnIfServed(cluster: number, host: number, nowS: number): void {
    const s = this.hosts[cluster]![host]!;
    if (s.ejectedUntilS !== undefined && nowS >= s.ejectedUntilS) {
      s.ejectedUntilS = undefined;
      s.returnedAtS = nowS;
      this.events.push({ atS: nowS, cluster, host, kind: "return" });
    } else if (s.ejectedUntilS === undefined && s.times > 0 && s.returnedAtS !== undefined && nowS - s.returnedAtS >= this.config.baseEjectionS) {
      s.times = 0;
    }
  }
}

/** Hosts in service that were sent requests and reported requests in flight, least in flight per request sent first. */
function latencySamples(counts: readonly HostWindowCounts[], states: readonly { ejectedUntilS: number | undefined }[]): Array<{ host: number; issued: number; inFlight: number }> {
  const samples: Array<{ host: number; issued: number; inFlight: number }> = [];
  counts.forEach((c, host) => {
    if (states[host]!.ejectedUntilS === undefined && c.issued !== undefined && c.issued > 0 && c.inFlight !== undefined) samples.push({ host, issued: c.issued, inFlight: c.inFlight });
  });
  return samples.sort((a, b) => a.inFlight / a.issued - b.inFlight / b.issued);
}
