// The reference oracle's decision: the traffic shares that minimise the expected number of bad
// requests (failed, or slower than the latency objective) when the true state of every host is
// known. Pure: the caller passes what is true over the span it decides for (sim/policies/oracle.ts).
//
// The expected outcome of one request to one host follows the simulator's own answer model
// (sim/upstream.ts, the scenarios README), evaluated in expectation:
//   - the host refuses at once with its fault's down chance;
//   - past its effective capacity c = base capacity × capacity_x, it rejects the excess offered
//     rate x: chance 1 − c / x;
//   - it fails with the cluster's error rate plus the faults' added error rate;
//   - otherwise it is slow when its log-normal latency × latency_x × the queueing multiplier at
//     utilisation x / c exceeds the latency objective, and fails when it exceeds the client's
//     timeout; a streamed answer is judged by its cut chance instead (its timing is left out,
//     and with it a first token past the client's timeout, which fails).
// The shares are found by water-filling: the offered load is handed out in small increments, each
// to the cluster where it adds the fewest expected bad requests (optimal up to one increment when
// each cluster's expected bad requests grow convexly with its load, as queueing and overload make
// them), each host's outcome averaged over the Poisson noise of the rate it measures. The
// operator's base shares stay unless the optimum saves a clear amount and is expected to fail no
// more requests and to break the SLO in no more windows (sim/report.ts judges windows) than they do.
import type { HostEffect } from "./faults.js";
import { queueingMultiplier } from "./upstream.js";

/** The hosts of one cluster that share one fault effect over a sampled instant. */
export interface HostGroupTruth {
  /** How many of the cluster's hosts in rotation have this effect. */
  hosts: number;
  effect: Readonly<HostEffect>;
}

/** What is true of one cluster at one sampled instant. */
export interface ClusterTruth {
  /** Requests per second one host serves without faults. */
  hostCapacityRps: number;
  /** The cluster's own chance of a 5xx answer. */
  errorRate: number;
  /** Log-normal latency parameters of one answer, ln milliseconds. */
  latencyMu: number;
  latencySigma: number;
  /** Share of its requests answered as streams (0 without an llm block). */
  streamFraction: number;
  /** Its hosts in rotation, grouped by effect; the offered load spreads evenly over them. */
  groups: readonly HostGroupTruth[];
}

/** One sampled instant of the span a decision is for. */
export interface TruthSample {
  /** Requests per second the clients offer then. */
  offeredRps: number;
  clusters: readonly ClusterTruth[];
}

/** The objectives a request is judged by, and the span its host measures load over. */
export interface RequestObjective {
  /** Slower than this misses the latency objective, milliseconds. */
  latencyMs: number;
  /** The client gives up after this (a failure), milliseconds. */
  clientTimeoutMs: number;
  /** The span over which a host measures its offered rate and utilisation (the scenario's
   *  window), seconds: the Poisson noise of a count over it is averaged over. */
  rateWindowS: number;
  /** Fraction of a window's requests that must succeed. */
  successRate: number;
}

/** Probabilists' 5-point Gauss–Hermite rule: E[f(Z)] for a standard normal Z ≈ Σ w·f(z). */
const HERMITE_NODES = [-2.8569700138728056, -1.3556261799742657, 0, 1.3556261799742657, 2.8569700138728056];
const HERMITE_WEIGHTS = [0.011257411327720691, 0.2220759220056126, 0.5333333333333333, 0.2220759220056126, 0.011257411327720691];

/** Upper tail of the standard normal, P(Z > z) (erfc by Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
export function normalUpperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** Expected fractions of a host's requests that fail (for the client) and that miss the latency objective. */
export interface HostOutcome {
  /** Refused, rejected as overload, answered 5xx, timed out at the client, or a cut stream. */
  failed: number;
  /** Served slower than the latency objective, 5xx answers and timed-out requests included (every
   *  served request's latency is in its window's p99): the requests that push the p99 past it. */
  slow: number;
  /** Failed or slow, each request once: what the shares minimise. */
  bad: number;
}

/**
 * Expected outcome of hosts with `effect` offered `hostRps` each, over the Poisson noise of the
 * rate the host measures (a count over objective.rateWindowS): a host run near its capacity
 * rejects and queues in its busier windows even when its mean load fits. A host counts only the
 * requests it takes (sim/upstream.ts: a refusal while it is down comes before its count), so its
 * rate is the offered one times 1 − its down chance.
 */
export function hostOutcome(cluster: ClusterTruth, effect: Readonly<HostEffect>, hostRps: number, objective: RequestObjective): HostOutcome {
  const takenRps = hostRps * (1 - effect.downChance);
  if (!(takenRps > 0)) return hostOutcomeAt(cluster, effect, 0, objective);
  const sd = Math.sqrt(takenRps / objective.rateWindowS);
  const sum: HostOutcome = { failed: 0, slow: 0, bad: 0 };
  for (let k = 0; k < HERMITE_NODES.length; k++) {
    const at = hostOutcomeAt(cluster, effect, Math.max(0, takenRps + HERMITE_NODES[k]! * sd), objective);
    const w = HERMITE_WEIGHTS[k]!;
    sum.failed += w * at.failed;
    sum.slow += w * at.slow;
    sum.bad += w * at.bad;
  }
  return sum;
}

/**
 * Expected outcome of a request to a host that measures `takenRps` requests per second taken (the
 * requests it did not refuse). The queueing multiplier is taken at that rate over the capacity now;
 * the simulator's host takes it from its previous window, which the oracle does not model.
 */
export function hostOutcomeAt(cluster: ClusterTruth, effect: Readonly<HostEffect>, takenRps: number, objective: RequestObjective): HostOutcome {
  const capacity = cluster.hostCapacityRps * effect.capacityX;
  const down = effect.downChance;
  const overload = capacity <= 0 ? 1 : takenRps > capacity ? 1 - capacity / takenRps : 0;
  const error = Math.min(1, cluster.errorRate + effect.addedErrorRate);
  /** Served, with a latency: answered 200 or 500 (a 5xx answer takes as long as a success). */
  const served = (1 - down) * (1 - overload);
  const answered = served * (1 - error);
  const utilisation = capacity > 0 ? takenRps / capacity : Infinity;
  const scale = effect.latencyX * queueingMultiplier(utilisation);
  const slower = (limitMs: number): number => cluster.latencySigma > 0
    ? normalUpperTail((Math.log(limitMs / scale) - cluster.latencyMu) / cluster.latencySigma)
    : Math.exp(cluster.latencyMu) * scale > limitMs ? 1 : 0;
  const plain = 1 - cluster.streamFraction;
  const timedOut = plain * slower(objective.clientTimeoutMs);
  const slowPlain = plain * slower(objective.latencyMs);
  const failed = 1 - answered + answered * (timedOut + cluster.streamFraction * effect.cutRate);
  // Every served request's latency is in its window's p99 (sim/runner.ts), errors' too.
  return { failed, slow: served * slowPlain, bad: failed + answered * Math.max(0, slowPlain - timedOut) };
}

/** Expected requests per second of a cluster offered `rps` (spread evenly over its hosts in rotation) that fail, are slow, are bad. */
export function clusterOutcomeRps(cluster: ClusterTruth, rps: number, objective: RequestObjective): HostOutcome {
  const sum: HostOutcome = { failed: 0, slow: 0, bad: 0 };
  if (rps <= 0) return sum;
  const hosts = cluster.groups.reduce((n, g) => n + g.hosts, 0);
  if (hosts === 0) return { failed: rps, slow: 0, bad: rps }; // nothing in rotation: every request fails
  const hostRps = rps / hosts;
  for (const g of cluster.groups) {
    const o = hostOutcome(cluster, g.effect, hostRps, objective);
    sum.failed += g.hosts * hostRps * o.failed;
    sum.slow += g.hosts * hostRps * o.slow;
    sum.bad += g.hosts * hostRps * o.bad;
  }
  return sum;
}

/** Expected requests per second, averaged over the samples, of the given shares that are `kind` (failed, slow, bad). */
export function expectedRps(kind: keyof HostOutcome, shares: readonly number[], samples: readonly TruthSample[], objective: RequestObjective): number {
  let sum = 0;
  for (const s of samples) s.clusters.forEach((c, i) => { sum += clusterOutcomeRps(c, shares[i]! * s.offeredRps, objective)[kind]; });
  return samples.length > 0 ? sum / samples.length : 0;
}

/** P(X >= k) for X Poisson with mean lambda (exact below a mean of 500, where e^-lambda is still a
 *  double; else normal with continuity correction). */
export function poissonAtLeast(lambda: number, k: number): number {
  if (k <= 0) return 1;
  if (!(lambda > 0)) return 0;
  if (lambda >= 500) return normalUpperTail((k - 0.5 - lambda) / Math.sqrt(lambda));
  let term = Math.exp(-lambda);
  let below = 0;
  for (let j = 0; j < k; j++) {
    below += term;
    term *= lambda / (j + 1);
  }
  return Math.max(0, 1 - below);
}

/**
 * Expected number of the samples' windows that break the SLO as the report judges a window on
 * its requests (more than 1 − success_rate of them failing, or a p99 past the latency objective:
 * more than 1 % of them slow; the streams' TTFT and TPOT objectives are left out), with the
 * counts of a window of objective.rateWindowS Poisson around their expectations: a few slow
 * requests more break a small window's p99.
 */
export function expectedBreaches(shares: readonly number[], samples: readonly TruthSample[], objective: RequestObjective): number {
  let breaches = 0;
  for (const s of samples) {
    const requests = s.offeredRps * objective.rateWindowS;
    if (!(requests > 0)) continue;
    let failed = 0;
    let slow = 0;
    s.clusters.forEach((c, i) => {
      const o = clusterOutcomeRps(c, shares[i]! * s.offeredRps, objective);
      failed += o.failed;
      slow += o.slow;
    });
    const failing = poissonAtLeast(failed * objective.rateWindowS, Math.floor(requests * (1 - objective.successRate)) + 1);
    const slowP99 = poissonAtLeast(slow * objective.rateWindowS, Math.floor(requests * 0.01) + 1);
    breaches += 1 - (1 - failing) * (1 - slowP99);
  }
  return breaches;
}

export interface PlanOptions {
  /** Increments the load is handed out in (the shares' resolution is 1 / increments). */
  increments: number;
  /** The base shares stay unless the optimum saves more than this fraction of the offered requests
   *  (and fails no more than this fraction more, nor breaks the SLO in this fraction more windows). */
  keepBaseWithin: number;
}

export const DEFAULT_PLAN_OPTIONS: PlanOptions = { increments: 100, keepBaseWithin: 0.001 };

/**
 * The shares (summing to 1) that minimise expected bad requests over the samples; the base shares
 * when the optimum is expected to fail more requests or break the SLO in more windows than they
 * do, or saves too little.
 */
export function planShares(base: readonly number[], samples: readonly TruthSample[], objective: RequestObjective, options: PlanOptions = DEFAULT_PLAN_OPTIONS): number[] {
  const n = base.length;
  const offered = samples.reduce((sum, s) => sum + s.offeredRps, 0) / Math.max(1, samples.length);
  if (samples.length === 0 || offered <= 0) return [...base];
  const step = 1 / options.increments;
  const shares = new Array<number>(n).fill(0);
  const clusterCost = (i: number, share: number): number =>
    samples.reduce((sum, s) => sum + clusterOutcomeRps(s.clusters[i]!, share * s.offeredRps, objective).bad, 0);
  const current = shares.map((_, i) => clusterCost(i, 0));
  for (let k = 0; k < options.increments; k++) {
    let best = 0;
    let bestAdded = Infinity;
    let bestCost = 0;
    for (let i = 0; i < n; i++) {
      const cost = clusterCost(i, shares[i]! + step);
      const added = cost - current[i]!;
      // Ties go to the cluster furthest below its base share, so equal clusters keep the operator's split.
      if (added < bestAdded - 1e-12 || (Math.abs(added - bestAdded) <= 1e-12 && base[i]! - shares[i]! > base[best]! - shares[best]!)) {
        best = i;
        bestAdded = added;
        bestCost = cost;
      }
    }
    shares[best] = shares[best]! + step;
    current[best] = bestCost;
  }
  // The optimum of bad requests may trade a few slow requests in every window for fewer failures
  // (more windows past the p99 objective), or the reverse; the two measures are scored apart, so
  // it is taken only when it is expected to be no worse than the base shares on either.
  const tolerance = options.keepBaseWithin * offered;
  const moreFailed = expectedRps("failed", shares, samples, objective) - expectedRps("failed", base, samples, objective);
  const moreBreaches = (expectedBreaches(shares, samples, objective) - expectedBreaches(base, samples, objective)) / samples.length;
  if (moreFailed > tolerance || moreBreaches > options.keepBaseWithin) return [...base];
  const saved = expectedRps("bad", base, samples, objective) - expectedRps("bad", shares, samples, objective);
  return saved > options.keepBaseWithin * offered ? shares : [...base];
}
