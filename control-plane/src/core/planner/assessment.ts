// A cluster's load–response model from its merged windows (pure): what the planner needs of
// each cluster, computed once per round.
import type { CapacityEstimate, ClusterWindowStats } from "../types.js";
import type { LoadResponse } from "./load-response.js";
import { slowStreams } from "../streams/stream-window.js";
import { reportedCapacityRps } from "./reported-capacity.js";

/** Weight of a window in the pooled evidence: the newest counts 1, each older one this much less. */
export const EVIDENCE_DECAY = 0.5;
/** Windows pooled for the current bad fraction (older ones weigh under 5 %). */
export const EVIDENCE_WINDOWS = 5;
/** Windows searched for the fault fraction (windows at or below the safe load). */
export const FAULT_WINDOWS = 10;
/** A window counts as "at the safe load" up to this multiple of the safe level. */
export const SAFE_LOAD_SLACK = 1.1;
/** Of the capacity its upstreams report (reported-capacity.ts), the share a cluster is trusted with:
 *  past it a server's queue grows steeply (at 80 % busy an M/M/1 queue's wait is 4 times the
 *  service time, and grows without bound toward 100 %). */
export const REPORTED_UTILISATION_LIMIT = 0.8;

/**
 * Requests of a window that hurt clients: failed, or slower than the SLO (at most all of them),
 * each once. Slower: total latency over slo.latencyMs (slowNotFailed: its timeouts are already
 * among the failed); with `slowStreams`, also a streamed response over its TTFT or TPOT objective
 * (the larger of the two counts: a slow stream may show in both).
 *
 * Slow requests count here however long before the window they were sent. Leaving out those of a
 * window whose own requests ended clearly faster than its ended requests' latencies imply
 * (promptness.ts slownessIsStale: sent under an earlier, slower state), and its timeouts, was
 * measured and not kept: neutral in all, and a systematic harm more on the shifted check run
 * (generalization-notes.md, "2026-12-06, ninth round").
 *
 * The planner's moves leave slow streams out: on generated LLM scenarios (the generator's `eval`
 * purpose) moving traffic on them did harm (load waves without a fault push every cluster's
 * TTFT and TPOT up at the peak, and the move overloads the receivers), so a stream objective
 * moves traffic only where it opens a breaker on a slow decode (breaker-rules.ts decodeTrip).
 */
export function badRequests(w: ClusterWindowStats, withSlowStreams = false, withSlowFirstTokens = false): number {
  const failed = Math.round(w.errorRate * w.requests);
  const slow = withSlowStreams ? slowStreams(w.streams) : withSlowFirstTokens ? (w.streams?.ttftSlow ?? 0) : 0;
  return Math.min(w.requests, failed + Math.max(slowNotFailed(w), slow));
}

/**
 * Requests of a window slower than the latency objective, less those that timed out: a timeout
 * (Envoy's local 504 at the route timeout, UT) is recorded at that latency, past any objective
 * shorter than the route timeout, so it is among the slow requests and among the failed ones
 * (ClusterWindowStats.errorRate); counted in both, each timeout was two bad requests. With an
 * objective at or past the route timeout the timeouts are not among the slow requests, and this
 * takes off as many others (at most the timeouts). A 5xx answered slower than the objective
 * stays in both counts: the window does not say how many of its failures were slow.
 */
export function slowNotFailed(w: Pick<ClusterWindowStats, "slowRequests" | "timeouts">): number {
  const slow = w.slowRequests ?? 0;
  return slow - Math.min(slow, w.timeouts);
}

/** How a load-response model counts bad requests (badRequests). */
export interface AssessOptions {
  /** Count streams over their TTFT or TPOT objective as bad (judging a slow decode). */
  slowStreams?: boolean;
  /** Load from the requests sent, counted as they start (offeredRps `arrivals`). */
  arrivals?: boolean;
}

/**
 * The median latency that load drives, ms: the time to first token when most of the window's
 * requests were streamed responses with a first token, else the total latency. A streamed
 * answer's total time grows with its length, not with the load (vLLM and TGI send their headers
 * before the first token, and decode time per token barely moves with queue depth); the queue
 * shows in the time to first token (requests wait for a prefill slot). NaN without requests.
 */
export function loadLatencyP50Ms(w: ClusterWindowStats): number {
  const s = w.streams;
  if (s !== undefined && w.requests > 0 && Math.max(s.streams, s.firstTokens) * 2 >= w.requests && Number.isFinite(s.ttftP50Ms)) return s.ttftP50Ms;
  return w.p50Ms;
}

/**
 * Offered load of a window, rps: the requests that reached the cluster plus what the filter
 * rejected locally. Reached: counted as they end, or with `arrivals` as they start (the requests
 * sent, when the filters report them: ClusterWindowStats.sentRps). Requests counted as they end lag
 * the load while answers grow slower (a latency step, a slow decode: they pile up in flight).
 *
 * The planner's load model counts them as they end: its capacities, margins and settling rounds
 * were chosen with that count, and on the tuning batches (generator `eval` purpose) counting them
 * as they start cost about 2 % more failed requests without streams. A slow decode's trip
 * (roomElsewhere) counts them as they start: there the streams pile up by definition, and counting
 * them as they end sent a slow cluster's whole load to a smaller, faulty one believing it a
 * third of what it was (on the streamed tuning batch: 7,962 failed against `none`'s 4,014; counted
 * as they start, 3,476).
 */
export function offeredRps(w: ClusterWindowStats, arrivals = false): number {
  const seconds = w.windowLengthMs / 1000;
  return (arrivals ? (w.sentRps ?? w.rps) : w.rps) + (seconds > 0 ? w.localRejects / seconds : 0);
}

/**
 * The load-response model of a cluster from its merged windows and its capacity estimate
 * (capacity.ts). A cluster serves a bounded number of requests at once, so by Little's law its
 * throughput falls as each request takes longer: when its median latency is above its low-load
 * baseline, the loads it was seen to carry safely are scaled down by that factor (capacityDivisor).
 * (A cluster slowed by a fault, or by a dependency all clusters share, cannot take what it took
 * when fast.)
 */
export function assessLoadResponse(history: readonly ClusterWindowStats[], capacity: CapacityEstimate, options: AssessOptions = {}): LoadResponse {
  const newest = history.at(-1);
  const divisor = capacityDivisor(newest, capacity);
  const safeRps = capacity.safeRps / divisor;
  // Where the cluster's upstreams report their load, that is its capacity now (a fault's loss
  // included): it saturates at all of it and is trusted with a share of it. Reports count for
  // less while the cluster is slowed beyond its own queueing (a fault's latency): a server's
  // utilisation says what its load uses of it, not how much slower each answer gets as more
  // come, so then they only lower what the latency already bounds.
  const reported = reportedCapacityRps(history.slice(-(EVIDENCE_WINDOWS + 1)), EVIDENCE_DECAY, (w) => offeredRps(w, true));
  const learntLimitRps = capacity.limitRps / divisor;
  const learntKneeRps = capacity.kneeRps / divisor;
  const limitRps = reported === undefined ? learntLimitRps : divisor > 1 ? Math.min(learntLimitRps, reported * REPORTED_UTILISATION_LIMIT) : reported * REPORTED_UTILISATION_LIMIT;
  const kneeRps = reported === undefined ? learntKneeRps : divisor > 1 ? Math.min(learntKneeRps, reported) : reported;
  const latest = history.at(-1);
  // A cluster its own servers report loaded past what it is trusted with is queueing: its first
  // tokens slower than the objective are that queue's, and count as bad requests for its moves
  // (issue 21: a TTFT breach that load causes moves traffic). Without reports a slow first token
  // does not say whether load or a fault made it, and moving on it did harm at load peaks (also
  // with a guard that no move adds failed requests: generalization-notes.md, "2026-12-08,
  // eighteenth round").
  const firstTokens = reported !== undefined && latest !== undefined && offeredRps(latest, true) >= reported * REPORTED_UTILISATION_LIMIT;
  let requests = 0;
  let bad = 0;
  let load = 0;
  let weights = 0;
  let weight = 1;
  for (let i = history.length - 1, seen = 0; i >= 0 && seen < EVIDENCE_WINDOWS; i--, seen++) {
    const w = history[i]!;
    requests += weight * w.requests;
    bad += weight * badRequests(w, options.slowStreams, firstTokens);
    load += weight * offeredRps(w, options.arrivals);
    weights += weight;
    weight *= EVIDENCE_DECAY;
  }
  const badFraction = requests > 0 ? bad / requests : 0;
  // The fault part: the bad fraction of the recent windows (the last FAULT_WINDOWS) at or below
  // the safe load; without any, all of it (no evidence that less load would help).
  const fault = safeLoadBadFraction(history, safeRps, options.slowStreams, firstTokens);
  const faultFraction = fault === undefined ? badFraction : Math.min(badFraction, fault);
  return {
    // Smoothed like the evidence: one window's arrivals are noisy (Poisson), and a share moved
    // this round shows in the load of the next.
    loadRps: latest === undefined || weights === 0 ? 0 : load / weights,
    requests,
    bad,
    badFraction,
    faultFraction,
    safeRps,
    limitRps,
    kneeRps,
    ...(reported === undefined ? {} : { saturationRps: reported }),
    ...(capacity.usualBadFraction !== undefined && Number.isFinite(capacity.usualBadFraction) ? { usualBadFraction: capacity.usualBadFraction } : {}),
  };
}

/**
 * What the loads a cluster was seen to carry safely are divided by (>= 1): its newest median
 * latency over its low-load baseline, unless that slowdown is its own queueing under load.
 *
 * A cluster slower than its baseline at a load above any it carried near its baseline
 * (capacity.safeRps) is queueing under that load: latency rises with utilisation well before the
 * capacity is reached, the safe level already says where it began to, and a steep rise there is a
 * knee that capacity.ts bounds the cluster at. A queue slows each answer without lowering what the
 * servers complete per second, so Little's law's division (fewer requests served when each takes
 * longer) holds for a slowdown at a load it carried fast (a fault's, or a dependency's all clusters
 * share), not for this one. Dividing its capacity by the slowdown its own load causes counted it
 * twice:
 *   - under the knee factor, a cluster with room at 70 % of its capacity, 1.3 times its baseline
 *     there, was trusted with less than it carried, so a failing cluster's traffic could not move
 *     to it (on the tuning batches, a cluster that lost two thirds of its capacity kept a fifth of
 *     its requests failing for four minutes beside one with a third of its capacity free);
 *   - at the knee factor or more, an overloaded cluster (equal weights sending a small one 104 %
 *     of its capacity after a traffic step, three times slower) was judged able to carry a third
 *     of its load and relieved down to half its base share, a false cut; and a cluster the planner
 *     had loaded with a failing neighbour's share (1.9 times slower at 127 rps, 0.3 % of its
 *     requests bad) was trusted with 66 rps (generalization-notes.md, "2026-12-07, fourteenth round").
 *
 * The detectors ask a like question (cluster-signals.ts overloaded(): a load 10 % above the safe
 * level and no excess of failures, so that a latency rise is not read as a fault). Giving the
 * detectors this predicate (offered load above the safe level) was measured and not kept: 0.2 %
 * more failed requests and 1 % more SLO seconds on the tuning batches (generalization-notes.md,
 * "2026-12-07, fifteenth round").
 */
export function capacityDivisor(newest: ClusterWindowStats | undefined, capacity: CapacityEstimate): number {
  const newestP50Ms = newest === undefined ? NaN : loadLatencyP50Ms(newest);
  if (newest === undefined || newest.requests <= 0 || !Number.isFinite(newestP50Ms) || !Number.isFinite(capacity.baselineP50Ms) || capacity.baselineP50Ms <= 0) return 1;
  const queueing = offeredRps(newest) > capacity.safeRps;
  return queueing ? 1 : Math.max(1, newestP50Ms / capacity.baselineP50Ms);
}

/**
 * Bad fraction of the last FAULT_WINDOWS windows that were at or below the safe load (up to
 * SAFE_LOAD_SLACK times it), the newest weighing most; undefined when none was.
 */
function safeLoadBadFraction(history: readonly ClusterWindowStats[], safeRps: number, slowStreams = false, slowFirstTokens = false): number | undefined {
  let requests = 0;
  let bad = 0;
  let weight = 1;
  for (let i = history.length - 1, seen = 0; i >= 0 && seen < FAULT_WINDOWS; i--, seen++) {
    const w = history[i]!;
    if (w.requests > 0 && safeRps > 0 && offeredRps(w) <= safeRps * SAFE_LOAD_SLACK) {
      requests += weight * w.requests;
      bad += weight * badRequests(w, slowStreams, slowFirstTokens);
    }
    weight *= EVIDENCE_DECAY;
  }
  return requests > 0 ? bad / requests : undefined;
}
