// One decision round of the planner policy, on plain data (pure): from each cluster's breaker
// state, share in force, windows and capacity estimate to the shares of the round, and whether
// a cluster is worth opening. The decision engine (decision-engine.ts) maps its runtime state to
// these inputs and applies the result; this file holds no state of its own.
import type { CoreConfig } from "../config.js";
import type { BreakerKind, CapacityEstimate, ClusterWindowStats } from "../types.js";
import { assessLoadResponse, badRequests, offeredRps, type AssessOptions } from "./assessment.js";
import { knownCapacityRps, type LoadResponse } from "./load-response.js";
import { spreadFreedShare, troubledBeyondUsual } from "./freed-share.js";
import { planShares, worthDraining, type PlanCluster, type PlanConfig } from "./planner.js";
import { pct } from "../reason-text.js";

export type LastMove = PlanCluster["lastMove"];

/** The planner's settings from the control plane's configuration (weights.*, detector.significance_z). */
export function planConfigOf(config: Pick<CoreConfig, "weights" | "detector">): PlanConfig {
  const w = config.weights;
  return { step: w.planStep, maxStep: w.planMaxStep, floor: w.probeFloorShare, z: config.detector.significanceZ, minGain: w.minGain, reversalRounds: w.reversalRounds, settleRounds: w.settleRounds, shareResolution: 1 / w.totalWeight };
}

/** What the round needs of one cluster. */
export interface RoundCluster {
  name: string;
  /** The operator's base weight (> 0). */
  baseWeight: number;
  breaker: BreakerKind;
  /** For half_open: the fraction of the base share admitted as probes. */
  probeFraction: number;
  /** The share it starts the round from, [0, 1]: its share in the decision set in force, or
   *  undefined to start at its base share (before the first set, or just closed again). */
  previousShare: number | undefined;
  /** Its share in the decision set in force (what its newest windows carried), [0, 1], when it
   *  differs from previousShare (it just closed again); undefined: previousShare. */
  inForceShare?: number | undefined;
  /** Merged windows, oldest first. */
  history: readonly ClusterWindowStats[];
  capacity: CapacityEstimate;
  lastMove: LastMove;
  /** An operator override holds it closed: it is never drained. */
  forcedClosed: boolean;
  /** The share its pooled windows were gathered at (gathered-share.ts), [0, 1]; undefined: not
   *  known (the engine's log does not reach back to them), inForceShare then stands for it. */
  gatheredShare?: number | undefined;
}

/** What the round decided for one cluster. */
export interface RoundClusterResult {
  share: number;
  lastMove: LastMove;
  /** The planner would cut it below the floor: its breaker may open next round. */
  drainable: boolean;
  /** Why its share moved away this round (undefined: keep the previous reason; "": none). */
  reason: string | undefined;
}

/**
 * The shares of a round. Open clusters get nothing, half-open ones their probe share (at least
 * the floor, at most their base share); the closed ones start from their shares in force,
 * rescaled to what the others leave (a closed one without a share in force, `previousShare`
 * undefined, at its base share; a share freed by a breaker that opened goes to those doing as
 * well as usual, freed-share.ts), and the planner moves them. All open: base shares (as
 * Envoy's panic mode routes to every host when too few are healthy).
 */
export function planRound(clusters: readonly RoundCluster[], config: PlanConfig): Map<string, RoundClusterResult> {
  const baseTotal = clusters.reduce((a, c) => a + c.baseWeight, 0);
  const baseShare = (c: RoundCluster) => c.baseWeight / baseTotal;
  const fixed = new Map<string, number>();
  for (const c of clusters) {
    if (c.breaker === "open") fixed.set(c.name, 0);
    else if (c.breaker === "half_open") fixed.set(c.name, halfOpenShare(baseShare(c), c.probeFraction, config.floor));
  }
  const out = new Map<string, RoundClusterResult>();
  const still = (c: RoundCluster, share: number): RoundClusterResult => ({ share, lastMove: { direction: 0, roundsAgo: 0 }, drainable: false, reason: undefined });
  const closed = clusters.filter((c) => !fixed.has(c.name));
  const fixedSum = [...fixed.values()].reduce((a, b) => a + b, 0);
  if (closed.length === 0) {
    for (const c of clusters) out.set(c.name, still(c, fixedSum > 0 ? fixed.get(c.name)! / fixedSum : baseShare(c)));
    return out;
  }
  const baseSum = closed.reduce((a, c) => a + baseShare(c), 0);
  const room = Math.max(0, 1 - fixedSum);
  // Clusters without a share in force (the first round, or just closed: back at the operator's
  // weight) start at their base share of the room; the others share what is left as before.
  const atBase = (c: RoundCluster) => c.previousShare === undefined;
  const baseStart = (c: RoundCluster) => (baseShare(c) / baseSum) * room;
  const rest = Math.max(0, room - closed.filter(atBase).reduce((a, c) => a + baseStart(c), 0));
  const inForceSum = closed.filter((c) => !atBase(c)).reduce((a, c) => a + c.previousShare!, 0);
  const restBaseSum = closed.filter((c) => !atBase(c)).reduce((a, c) => a + baseShare(c), 0);
  const responses = new Map(closed.map((c) => [c.name, assessLoadResponse(c.history, c.capacity)]));
  const start = closed.map((c) => {
    if (atBase(c)) return baseStart(c);
    return inForceSum > 0 ? (c.previousShare! / inForceSum) * rest : (baseShare(c) / restBaseSum) * rest;
  });
  if (inForceSum > 0 && rest > inForceSum + 1e-9) {
    // More room than their shares in force fill (a breaker opened): the freed share goes to the
    // clusters doing as well as usual, not pro rata to one failing beside them (freed-share.ts).
    const kept = closed.map((c, i) => (atBase(c) ? -1 : i)).filter((i) => i >= 0);
    const spread = spreadFreedShare(
      kept.map((i) => closed[i]!.previousShare!),
      kept.map((i) => troubledBeyondUsual(responses.get(closed[i]!.name)!, config)),
      rest - inForceSum,
    );
    kept.forEach((i, k) => (start[i] = spread[k]!));
  }
  // The mesh's offered load, smoothed as each cluster's (open clusters' last load included).
  const totalRps = meshLoadRps(clusters, responses);
  const planned = planShares(
    closed.map((c, i): PlanCluster => ({
      cluster: c.name,
      baseShare: (baseShare(c) / baseSum) * room,
      share: start[i]!,
      ...evidenceShareOf(c),
      adjustable: true,
      response: responses.get(c.name)!,
      lastMove: c.lastMove,
    })),
    totalRps,
    config,
  );
  closed.forEach((c, i) => {
    const share = planned.shares.get(c.name)!;
    const delta = share - start[i]!;
    const lastMove = nextLastMove(c.lastMove, delta);
    const away = planned.moves.find((m) => m.from === c.name && m.kind === "improve");
    const atBase = Math.abs(share - (baseShare(c) / baseSum) * room) < 1e-9;
    const reason = away !== undefined ? `predicted ${pct(away.fromBad)} of requests bad here vs ${pct(away.toBad)} on ${away.to}: traffic shifted` : atBase ? "" : undefined;
    out.set(c.name, { share, lastMove, drainable: planned.drainable.includes(c.name) && !c.forcedClosed, reason });
  });
  for (const c of clusters) if (fixed.has(c.name)) out.set(c.name, still(c, fixed.get(c.name)!));
  return out;
}

/** A cluster's last move after a round that changed its share by `delta`: a new move that way,
 *  or the one before, a round older. */
export function nextLastMove(last: LastMove, delta: number): LastMove {
  return Math.abs(delta) > 1e-9 ? { direction: delta > 0 ? 1 : -1, roundsAgo: 0 } : { direction: last.direction, roundsAgo: last.roundsAgo + 1 };
}

/** A half-open cluster's share, [0, 1]: `probeFraction` of its base share, at least the floor
 *  (enough requests to judge), at most its base share. */
export function halfOpenShare(baseShare: number, probeFraction: number, floor: number): number {
  return Math.min(baseShare, Math.max(floor, baseShare * probeFraction));
}

/**
 * Whether the closed clusters other than `name`, at their shares in force, serve its share better
 * than it does (planner.ts worthDraining). A severe trip rests on the newest window (a hard
 * outage), so every cluster is judged by its newest window when that is worse than its pooled
 * ones: the failing cluster is not flattered by windows that remember it healthy, and the others
 * are not flattered either (a shared dependency failing shows in all of them).
 *
 * The load each would carry at its share is predicted from the mesh's whole offered load, open and
 * probing clusters' load included (a cluster opened earlier this round sends its traffic to the
 * closed ones too), anchored at the share its windows were gathered at (RoundCluster.gatheredShare):
 * a cluster that just closed after probing at a few percent is judged at the load its share in
 * force brings, not at its probe load. (The planner's own moves keep anchoring at the share in
 * force: on the tuning batches the gathered share there cost more than it gained, as its margins
 * and settling rounds were chosen with that anchor.)
 *
 * `assess`: how bad requests are counted (assessment.ts badRequests); a slow decode is judged
 * with streams over their objectives counted as bad.
 */
export function worthOpening(clusters: readonly RoundCluster[], name: string, config: PlanConfig, assess: AssessOptions = {}): boolean {
  const closed = clusters.filter((c) => c.breaker === "closed");
  const baseTotal = clusters.reduce((a, c) => a + c.baseWeight, 0);
  const shares = closed.map((c) => c.previousShare ?? c.baseWeight / baseTotal);
  const sum = shares.reduce((a, b) => a + b, 0);
  const responses = closed.map((c) => newestView(assessLoadResponse(c.history, c.capacity, assess), c.history.at(-1), assess));
  const totalRps = meshLoadRps(clusters, new Map(closed.map((c, i) => [c.name, responses[i]!])));
  const plan: PlanCluster[] = closed.map((c, i) => {
    const share = sum > 0 ? shares[i]! / sum : 1 / closed.length;
    return {
      cluster: c.name,
      baseShare: c.baseWeight / baseTotal,
      share,
      evidenceShare: c.gatheredShare ?? c.inForceShare ?? c.previousShare ?? share,
      adjustable: true,
      response: responses[i]!,
      lastMove: c.lastMove,
    };
  });
  return worthDraining(plan, name, totalRps, config);
}

/**
 * Whether the closed clusters other than `name` can take its load within what each is trusted
 * with: the load it was seen to serve well (capacity.ts) less `z` standard errors of a window's
 * count (carriedRps), or its base share of the mesh's load.
 * A slow decode's streams complete, only slowly: trading them for failures or queueing at a
 * cluster pushed past its capacity does not help clients, so a decode trip needs this room.
 * Loads count the requests sent, as they start (assessment.ts offeredRps): a slow decode's
 * answers pile up in flight, so the ones that ended understate what the others would take.
 */
export function roomElsewhere(clusters: readonly RoundCluster[], name: string, z: number): boolean {
  // The load it was seen to serve well, less its count's noise (not the exploration step above
  // it: the whole of a donor's streams arrive at once), or its base share of the mesh's load.
  return roomForLoad(clusters, name, (c, r, baseShareRps) => Math.max(carriedRps(r.safeRps, c.history.at(-1), z), Math.min(baseShareRps, r.kneeRps)));
}

/**
 * Whether the closed clusters other than `name` can take its load within what the planner's
 * load-response model trusts each with (load-response.ts predictBadFraction): the most it is
 * known to carry (its capacity limit, a step above the load it served well; without one, its
 * load and the model's unknown-capacity headroom), or its base share of the mesh's load up to its
 * knee. Every request past that trust is one the model counts bad without knowing; a breaker
 * opened at once moves a cluster's whole load in one round, so its predicted gain is only as
 * good as this room.
 */
export function roomWithinTrust(clusters: readonly RoundCluster[], name: string): boolean {
  return roomForLoad(clusters, name, (_c, r, baseShareRps) => knownCapacityRps(r, Math.min(baseShareRps, r.kneeRps)));
}

/**
 * Whether the closed clusters other than `name` can take its load within `kneeFactor` times their
 * knees (the loads at which their latency was seen to rise steeply, capacity.ts; a cluster never
 * seen slow is not bounded). The breaker's severe rule passes one exploration step above the knee
 * (1 + weights.exploreGrowth): the step the planner's trust takes above what a cluster served
 * well, and short of where a queue seen slow at its knee saturates.
 */
export function roomBelowKnees(clusters: readonly RoundCluster[], name: string, kneeFactor: number): boolean {
  return roomForLoad(clusters, name, (_c, r) => r.kneeRps * kneeFactor);
}

/**
 * Whether the other closed clusters' room (what `trusted` grants each, less its load) adds up to
 * `name`'s load. Loads count the requests sent, as they start (assessment.ts offeredRps).
 */
function roomForLoad(
  clusters: readonly RoundCluster[],
  name: string,
  trusted: (c: RoundCluster, response: LoadResponse, baseShareRps: number) => number,
): boolean {
  const closed = clusters.filter((c) => c.breaker === "closed");
  if (!closed.some((c) => c.name === name)) return false;
  const baseTotal = clusters.reduce((a, c) => a + c.baseWeight, 0);
  const responses = new Map(closed.map((c) => [c.name, assessLoadResponse(c.history, c.capacity, { arrivals: true })]));
  const totalRps = meshLoadRps(clusters, responses);
  let room = 0;
  for (const c of closed) {
    if (c.name === name) continue;
    const r = responses.get(c.name)!;
    room += Math.max(0, trusted(c, r, (c.baseWeight / baseTotal) * totalRps) - r.loadRps);
  }
  return room >= responses.get(name)!.loadRps;
}

/**
 * A safe level as a load carried, rps: the safe level is the highest rate of a window with
 * latency near baseline, and a window's count is a Poisson draw, so the highest of many short
 * windows stands above what the cluster carried (seeded Poisson draws at a steady 30 rps in 1-s
 * windows: 41 over 300 windows, two standard errors; streamed answers end in clumps, so their
 * rates spread wider). A decode trip moves a cluster's whole load at once and its streams cannot
 * come back, so it counts on the safe level less `z` standard errors of the newest window's count
 * (z: detector.significanceZ, the same the planner's gains must clear).
 */
function carriedRps(safeRps: number, newest: ClusterWindowStats | undefined, z: number): number {
  const seconds = (newest?.windowLengthMs ?? 0) / 1000;
  if (!(seconds > 0) || !(safeRps > 0)) return safeRps;
  return Math.max(0, safeRps - (z * Math.sqrt(safeRps * seconds)) / seconds);
}

/**
 * The mesh's offered load, rps: each cluster's load-response load where it has one (closed
 * clusters, smoothed), else its newest window's offered load (open and probing clusters, whose
 * traffic the closed ones carry or will carry).
 */
export function meshLoadRps(clusters: readonly RoundCluster[], responses: ReadonlyMap<string, LoadResponse>): number {
  return clusters.reduce((a, c) => a + (responses.get(c.name)?.loadRps ?? (c.history.length === 0 ? 0 : offeredRps(c.history.at(-1)!))), 0);
}

function newestView(r: LoadResponse, newest: ClusterWindowStats | undefined, assess: AssessOptions): LoadResponse {
  if (newest === undefined || newest.requests === 0) return r;
  const fraction = badRequests(newest, assess.slowStreams) / newest.requests;
  return fraction > r.badFraction ? { ...r, badFraction: fraction, faultFraction: fraction, bad: fraction * r.requests } : r;
}

/** The share a cluster's windows were gathered at, for the planner's load model (PlanCluster.evidenceShare). */
function evidenceShareOf(c: RoundCluster): { evidenceShare?: number } {
  const inForce = c.inForceShare ?? c.previousShare;
  return inForce === undefined ? {} : { evidenceShare: inForce };
}
