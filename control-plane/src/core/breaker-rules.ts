// The automatic rules that step one cluster's breaker in a round (step 3 of decision-engine.ts;
// breaker-round.ts steps every cluster in turn), on the cluster's runtime record and plain inputs
// of the round. The engine gathers the inputs (overrides, triggers, stream verdicts, baselines)
// and applies the step; nothing here holds state between rounds.
//
// In order:
//   - an operator override in force wins (overrides.ts), then a fired trigger holding it open;
//   - an open breaker while other closed clusters strain under its share waits at most one
//     backoff step, and no longer than until waiting has cost them as much as a failed probe
//     would (strained-wait.ts);
//   - it opens on the planner's drain (the last plan would cut it below the probe floor), on a
//     severe share of bad requests (severeTrip: a hard outage only where the others take its load
//     short of overload), or on a slow decode (decodeTrip), each only when
//     the others serve its share better (planner/round-plan.ts worthOpening);
//   - a half-open breaker's new probe window is judged (probe-verdict.ts); while the others strain
//     one healthy probe window closes it.
import { INITIAL_PROBE_FRACTION, stepBreaker, type BreakerStep } from "./breaker.js";
import type { ClusterRuntime } from "./cluster-runtime.js";
import { tripReason } from "./cluster-signals.js";
import type { CoreConfig } from "./config.js";
import { applyOverride } from "./overrides.js";
import { judgeProbe, type ProbeVerdict } from "./probe-verdict.js";
import { severeFailures } from "./score-combination.js";
import { excessBadRps, strainedOpenWaitMs } from "./strained-wait.js";
import { triggerOpenStep } from "./triggers/index.js";
import type { Override, Slo } from "./types.js";
import { assessLoadResponse, badRequests } from "./planner/assessment.js";
import type { PlanConfig } from "./planner/planner.js";
import { halfOpenShare, meshLoadRps, roomBelowKnees, roomElsewhere, roomWithinTrust, worthOpening, type RoundCluster } from "./planner/round-plan.js";

/** What the rules need of the round besides the cluster's own record. */
export interface BreakerRound {
  nowMs: number;
  /** A window closed this round: a half-open breaker's probe window may be judged. */
  newWindow: boolean;
  config: CoreConfig;
  /** The objectives a probe window is judged against. */
  slo: Slo;
  plan: PlanConfig;
  /** Every cluster's record as stepped so far this round (a breaker opened earlier counts). */
  all: readonly ClusterRuntime[];
  /** The planner's plain data of every cluster now (round-plan.ts RoundCluster), read when a
   *  rule needs it: after the clusters stepped earlier in the round. */
  roundClusters: () => RoundCluster[];
}

/** What the round holds for the one cluster, gathered by the engine. */
export interface BreakerInputs {
  override: Override | undefined;
  /** Why a fired trigger holds it open; undefined: none does. */
  triggerOpenReason: string | undefined;
  /** Why its streams decode too slowly (streams/stream-slo-scorer.ts decodeTrip); undefined: they do not. */
  slowDecodeReason: string | undefined;
  /** Its dynamic baseline's median latency, ms (NaN: not learnt yet). */
  baselineP50Ms: number;
  /** The other closed clusters' bad fraction now (alternativeBadFraction) when some of them strain
   *  under extra load; undefined: none does. */
  othersBad: number | undefined;
}

/**
 * One cluster's breaker step. Mutates only `rt.breaker`'s wait (the strained wait) and `rt.probe`
 * (the evidence of a judged probe window); the returned state is the engine's to apply.
 */
export function stepClusterBreaker(rt: ClusterRuntime, inputs: BreakerInputs, round: BreakerRound): BreakerStep {
  const { nowMs, config } = round;
  const othersStrain = inputs.othersBad !== undefined;
  if (inputs.override !== undefined) return applyOverride(rt.spec.name, inputs.override, rt.breaker, nowMs, config.breaker);
  if (inputs.triggerOpenReason !== undefined) return triggerOpenStep(rt.spec.name, inputs.triggerOpenReason, rt.breaker, nowMs, config.breaker);
  if (rt.breaker.kind === "open" && othersStrain) {
    // Keeping this cluster open costs the others more than a probe would cost: the wait
    // does not grow with repeated openings while they strain (probes are a small share), and
    // ends once waiting has cost as much as a failed probe would (strained-wait.ts).
    const wait = Math.min(config.breaker.openBaseMs * config.breaker.openBackoff, strainedWaitMs(rt, round));
    rt.breaker = { ...rt.breaker, until: Math.min(rt.breaker.until, rt.breaker.since + wait) };
  }
  const decode = decodeTrip(rt, inputs.slowDecodeReason, round);
  const severe = severeTrip(rt, round);
  const trip = severe || rt.drainable || decode !== undefined;
  const latest = rt.history.at(-1);
  let probe: ProbeVerdict = { probe: "none", reason: "" };
  if (round.newWindow && rt.breaker.kind === "half_open" && latest !== undefined && latest.windowStartMs >= rt.breaker.since - latest.windowLengthMs) {
    const judged = judgeProbe(
      { window: latest, combined: rt.probeCombined, evidence: rt.probe, baselineP50Ms: inputs.baselineP50Ms, ...(inputs.othersBad !== undefined ? { alternativeBadFraction: inputs.othersBad } : {}) },
      { detector: config.detector, breaker: config.breaker, sloLatencyMs: round.slo.latencyMs, ...(round.slo.ttftMs !== undefined ? { sloTtftMs: round.slo.ttftMs } : {}) },
    );
    rt.probe = judged.evidence;
    probe = judged.verdict;
  }
  const d = config.detector;
  // The audit names what opened the breaker: the severe rule only when it did (a severe share
  // of slow requests without room elsewhere opens by the planner's drain or the decode rule).
  const reason = severe ? tripReason(rt, d) : decode ?? (rt.planReason || tripReason(rt, d));
  // While the others strain under this cluster's load, one healthy probe window is enough to
  // close it: each further window of probing keeps them past what they were sized for.
  const breakerConfig = othersStrain ? { ...config.breaker, healthyProbeWindows: 1 } : config.breaker;
  // The audit says why a probe closed it early: the verdict's own reason (a failing probe that
  // served better than the alternative), or the others straining.
  const probeReason = probe.reason || (othersStrain && probe.probe === "healthy" ? "the others strain under its load" : "");
  return stepBreaker(rt.spec.name, rt.breaker, { nowMs, trip, tripReason: reason, probe: probe.probe, probeReason }, breakerConfig);
}

/** How long open cluster `rt` waits while the other closed clusters strain (strained-wait.ts), ms.
 *  The mesh's load is the planner's (round-plan.ts meshLoadRps), from the same assessments. */
function strainedWaitMs(rt: ClusterRuntime, round: BreakerRound): number {
  const baseTotal = round.all.reduce((a, o) => a + o.spec.baseWeight, 0);
  const baseShare = baseTotal > 0 ? rt.spec.baseWeight / baseTotal : 0;
  const others = round.all.filter((o) => o !== rt && o.breaker.kind === "closed");
  const responses = new Map(others.map((o) => [o.spec.name, assessLoadResponse(o.history, o.capacity.estimate())]));
  return strainedOpenWaitMs({
    meshRps: meshLoadRps(round.roundClusters(), responses),
    windowMs: others.map((o) => o.history.at(-1)?.windowLengthMs ?? 0).find((ms) => ms > 0) ?? 0,
    probeShare: halfOpenShare(baseShare, INITIAL_PROBE_FRACTION, round.config.weights.probeFloorShare),
    excessBadRps: excessBadRps([...responses.values()], round.config.detector.significanceZ),
  });
}

/**
 * The severe rule (the planner's other opening, a drain below the floor, is `rt.drainable`): a
 * breaker opens at once on a severe share of bad requests if the others serve its share better
 * (worthOpening). When the severe share is not of failures alone (requests slower than the
 * objective), that slowness may be the cluster's load (a capacity loss, a load peak), and the
 * prediction for the others past what the planner trusts them with is a guess: it opens at once
 * only if the others have room for its whole load within that trust (roomWithinTrust); otherwise
 * the planner moves its share a bounded step at a time.
 *
 * A hard outage (failures) opens at once unless the others would be pushed far past the loads at
 * which they were seen slow: its whole load must fit within one exploration step above their
 * knees (roomBelowKnees; a cluster never seen slow is not bounded). A whole load moved at once
 * onto clusters seen slow at a fraction of it overloads them, and they stay overloaded after the
 * outage ends, for as long as the breaker waits, probes and closes; for an outage shorter than
 * that round trip (a flapping cluster) the overload costs more than the outage would have.
 * Traced on a tuning batch drawn for flapping clusters at high utilisation: a cluster down for
 * 13 s every 42 s, opened onto the other one (seen slow at half the load it then got), which
 * failed a third of its requests for some 30 s after each recovery (16,463 failed requests
 * against `none`'s 9,433). There the planner moves what the others can take, a step at a time.
 */
function severeTrip(rt: ClusterRuntime, round: BreakerRound): boolean {
  if (!rt.trip.severe) return false;
  const clusters = round.roundClusters();
  if (!worthOpening(clusters, rt.spec.name, round.plan)) return false;
  const latest = rt.history.at(-1);
  const failing = latest !== undefined && severeFailures(latest, rt.scorers["hard_rules"]?.evidence, round.config.breaker.severeErrorRate);
  return (failing && roomBelowKnees(clusters, rt.spec.name, 1 + round.config.weights.exploreGrowth)) || roomWithinTrust(clusters, rt.spec.name);
}

/**
 * Stream objectives: a decode too slow in hardN of the last M windows (TPOT over its objective,
 * `slowDecodeReason`) opens the breaker so that no new stream joins the slow batch (streams in
 * flight cannot move), if the others can take its streams within what they are trusted with
 * (roomElsewhere: slow answers beat failed ones) and serve its share better (worthOpening, slow
 * streams counted as bad). The reason, or undefined.
 */
function decodeTrip(rt: ClusterRuntime, slowDecodeReason: string | undefined, round: BreakerRound): string | undefined {
  if (rt.breaker.kind !== "closed" || slowDecodeReason === undefined) return undefined;
  const clusters = round.roundClusters();
  return roomElsewhere(clusters, rt.spec.name, round.plan.z) && worthOpening(clusters, rt.spec.name, round.plan, { slowStreams: true }) ? slowDecodeReason : undefined;
}

/** The fraction of the closed clusters' newest windows' requests that went bad (failed, or over
 *  the latency or a stream objective: planner/assessment.ts badRequests); 0 without requests. */
export function alternativeBadFraction(closed: readonly ClusterRuntime[]): number {
  let requests = 0;
  let bad = 0;
  for (const rt of closed) {
    const w = rt.history.at(-1);
    if (w === undefined || w.requests <= 0) continue;
    requests += w.requests;
    bad += badRequests(w, true);
  }
  return requests > 0 ? bad / requests : 0;
}
