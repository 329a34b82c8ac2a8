// The traffic planner (pure): shares per cluster that minimise the predicted number of bad
// requests (failed or slower than the SLO), moving only when the prediction says clients gain.
//
// From the shares in force it moves traffic in small steps, one step at a time, always the step
// with the largest predicted gain, under these rules:
//   - a step goes only from a cluster to one predicted better *at its new load* than the donor
//     is now (load-response.ts: unknown capacity is not trusted, so nobody is pushed past what
//     it has been seen to carry unless the donor is worse still). Every cluster is trusted with
//     its base share, unless its own windows showed its knee below that: the operator sized it
//     for that share, and a cluster that was drained (an outage) has shown nothing of its
//     capacity since, so without this it would be let back only as fast as it proves itself
//     again while the others carry its load past theirs;
//   - the gain per moved request must clear a margin: z standard errors of the two clusters'
//     observed bad fractions plus minGain. Equal degradation therefore moves nothing, and thin
//     evidence (a few requests) moves nothing;
//   - the donor's bad fraction must exceed its own usual level (capacity.ts) by that margin too:
//     trouble is a change in a cluster, not a cluster that is always a little slower than
//     another (the operator weighted it knowing that);
//   - a receiver that carries at least its base share and has room for less than a step within
//     what it is known to carry takes a part step, up to that room (at least a fifth of a step):
//     a whole step would pass its limit and be predicted away, and nothing would move at all
//     while the donor fails beside clusters with some room each;
//   - each cluster's share moves at most maxStep per round, and away from it at most a third of
//     the share it starts the round with (or one step, when that is more): the load-response
//     model predicts best near the load it saw, and a small cluster's share cut in half in one
//     round on that prediction made false cuts (a strained cluster relieved of half its share,
//     not of its excess: notes, "2026-12-06, fourth round"); never below the floor; after a
//     move it rests settleRounds rounds, so that its windows show the move's effect before the
//     next (the evidence is pooled over a few windows and lags: moving on stale evidence
//     overshoots and swings);
//   - a cluster whose share moved one way does not move the other way for reversalRounds
//     rounds (hysteresis: no oscillation; a cluster that fails hard is opened by its breaker);
//   - when no step gains, shares drift one step back toward the operator's base shares
//     (toward-base.ts), as long as that is not predicted to cost clients more than minGain per
//     moved request, counted beyond each cluster's usual level as the moves away are (the
//     receiver trusted with its base share, and past its knee when the cluster carrying its
//     share fails beyond its usual level; a step at most up to the load the receiver is trusted
//     with): in doubt, base weights. A cluster above its base share that does worse than its
//     usual level by the margin (the planner's own move proved wrong, or its capacity fell under
//     the extra load) is not held by settle rounds on that way back, and may go up to maxStep in
//     a round: a step toward the operator's weights cannot overshoot them.
// A cluster the planner would cut below the floor is reported in `drainable`: the coordinator
// may open its breaker.
import { badFractionError, knownCapacityRps, predictBadFraction, predictBadRps, type LoadResponse } from "./load-response.js";
import { driftTowardBase } from "./toward-base.js";
import { spreadFreedShare, troubledBeyondUsual } from "./freed-share.js";

export interface PlanCluster {
  cluster: string;
  /** The operator's share (base weight over the sum of base weights), [0, 1]. */
  baseShare: number;
  /** Share the round starts from, [0, 1] (the shares of all clusters sum to 1). */
  share: number;
  /**
   * Share in force while the cluster's evidence (response.loadRps) was gathered, when it differs
   * from `share` (a breaker just opened or closed elsewhere, or this one was given its base share
   * back): its load at share s is then predicted from this anchor. Undefined: `share`.
   */
  evidenceShare?: number;
  /** The planner may move this cluster's share (closed, not held by an override). Others keep `share`. */
  adjustable: boolean;
  response: LoadResponse;
  /** Direction of this cluster's last share change (-1 down, 1 up, 0 none yet) and rounds since. */
  lastMove: { direction: -1 | 0 | 1; roundsAgo: number };
}

export interface PlanConfig {
  /** Share moved per step, fraction of the total. */
  step: number;
  /** Most one cluster's share changes per round. */
  maxStep: number;
  /** Smallest share of an adjustable cluster. */
  floor: number;
  /** Standard errors the gain must clear. */
  z: number;
  /** Gain per moved request the move must clear on top, fraction of requests. */
  minGain: number;
  /** Rounds after a move during which the share does not move the other way. */
  reversalRounds: number;
  /** Rounds after a move during which the share does not move at all (its windows catch up). */
  settleRounds: number;
  /** The smallest share the decision set can carry, [0, 1]: one weight unit (1 / weights.totalWeight).
   *  Shares in force are integer weights, so a gap to the base share below it is rounding, and the
   *  way back toward base leaves it alone (toward-base.ts). */
  shareResolution: number;
}

export interface PlanMove {
  from: string;
  to: string;
  share: number;
  /** Predicted bad fraction of the moved requests before (at the donor) and after (at the receiver). */
  fromBad: number;
  toBad: number;
  kind: "improve" | "toward_base";
}

/**
 * Whether a cluster's share may move one `step` in `direction` this round: at most maxStep per
 * round, away at most a third of its share (or one step), never against its last move within
 * reversalRounds, and (`settle`, the default) not within settleRounds of its last move.
 */
export type MayMove = (c: PlanCluster, direction: -1 | 1, step?: number, settle?: boolean) => boolean;

export interface Plan {
  shares: Map<string, number>;
  moves: PlanMove[];
  /** Adjustable clusters at the floor that the planner would still cut (candidates to open). */
  drainable: string[];
}

/** Shares closer than this are equal (floating-point slack of sums of steps). */
export const EPS = 1e-9;
/** Smallest part step into a receiver, as a fraction of a whole step (stepInto): a smaller one
 *  would make a move (and hold the pair for settleRounds) for next to nothing. */
const MIN_PART_STEP = 0.2;
/** Most of a cluster's share (the share it starts the round with) moved away in one round, when
 *  more than one step: a third, so that no single round halves a cluster's share (a false cut,
 *  sim/report.ts), and its settle rounds show the move's effect before the next. */
const RELATIVE_MOVE_CAP = 1 / 3;

export function planShares(clusters: readonly PlanCluster[], totalRps: number, config: PlanConfig): Plan {
  const share = new Map(clusters.map((c) => [c.cluster, c.share]));
  const moved = new Map(clusters.map((c) => [c.cluster, 0]));
  const moves: PlanMove[] = [];
  const drainable = new Set<string>();
  const adjustable = clusters.filter((c) => c.adjustable);
  const load = (c: PlanCluster, s = share.get(c.cluster)!) => loadAt(c, s, totalRps);
  const trusted = (c: PlanCluster) => trustedRps(c, totalRps);
  const mayMove: MayMove = (c, direction, step = config.step, settle = true) => {
    const m = moved.get(c.cluster)! + direction * step;
    if (Math.abs(m) > config.maxStep + EPS) return false;
    if (direction < 0 && -m > Math.max(config.step, RELATIVE_MOVE_CAP * c.share) + EPS) return false;
    const last = c.lastMove;
    if (last.direction === 0) return true;
    // A share that just moved waits for its windows to show the effect (the evidence lags).
    if (settle && last.roundsAgo < config.settleRounds) return false;
    return last.direction === direction || last.roundsAgo >= config.reversalRounds;
  };
  /** Predicted bad requests per second of the pair before and after moving one step d -> r. */
  const gainOf = (d: PlanCluster, r: PlanCluster, step = config.step) => {
    const sd = share.get(d.cluster)!;
    const sr = share.get(r.cluster)!;
    const before = predictBadRps(d.response, load(d, sd), trusted(d)) + predictBadRps(r.response, load(r, sr), trusted(r));
    const after = predictBadRps(d.response, load(d, sd - step), trusted(d)) + predictBadRps(r.response, load(r, sr + step), trusted(r));
    return (before - after) / Math.max(EPS, load(d, sd) - load(d, sd - step));
  };
  /**
   * The step into receiver r, share: a whole step, or a part of one when r carries at least its
   * base share and has less room than a step within what its windows showed it can carry
   * (knownCapacityRps): a whole step would push it past that, so that the move's gain is
   * predicted away and nothing moves at all while the donor fails. 0: too little room to move.
   */
  const stepInto = (r: PlanCluster) => {
    const rLoad = load(r);
    if (rLoad + EPS < r.baseShare * totalRps) return config.step;
    const room = (knownCapacityRps(r.response, trusted(r)) - rLoad) / totalRps;
    if (room >= config.step) return config.step;
    return room >= config.step * MIN_PART_STEP ? room : 0;
  };
  const margin = (d: PlanCluster, r: PlanCluster) => config.z * Math.hypot(badFractionError(d.response), badFractionError(r.response)) + config.minGain;

  if (totalRps > 0 && adjustable.length >= 2) {
    const maxIterations = Math.ceil((config.maxStep / config.step) * adjustable.length) + 1;
    for (let i = 0; i < maxIterations; i++) {
      let best: { d: PlanCluster; r: PlanCluster; gain: number; fromBad: number; toBad: number; step: number } | undefined;
      // Each receiver's step depends on its own share only: once per iteration, not per donor.
      const steps = new Map(adjustable.map((r) => [r.cluster, stepInto(r)]));
      for (const d of adjustable) {
        const sd = share.get(d.cluster)!;
        const fromBad = predictBadFraction(d.response, load(d), trusted(d));
        for (const r of adjustable) {
          if (r === d) continue;
          const step = steps.get(r.cluster)!;
          if (step <= 0) continue;
          const toBad = predictBadFraction(r.response, load(r, share.get(r.cluster)! + step), trusted(r));
          if (!(toBad < fromBad)) continue;
          const need = margin(d, r);
          // Only trouble beyond its usual level moves a cluster's traffic away: one that is always a
          // little slower than another was weighted by the operator knowing that.
          if (!(fromBad - (d.response.usualBadFraction ?? 0) > need)) continue;
          const gain = gainOf(d, r, step);
          if (gain <= need) continue;
          if (sd - config.step < config.floor - EPS) {
            // At the floor: drain it (open) only if its whole remaining share is better elsewhere.
            if (worthDraining(adjustable, d.cluster, totalRps, config, share)) drainable.add(d.cluster);
            continue;
          }
          if (!mayMove(d, -1, step) || !mayMove(r, 1, step)) continue;
          if (best === undefined || gain > best.gain) best = { d, r, gain, fromBad, toBad, step };
        }
      }
      if (best === undefined) break;
      share.set(best.d.cluster, share.get(best.d.cluster)! - best.step);
      share.set(best.r.cluster, share.get(best.r.cluster)! + best.step);
      moved.set(best.d.cluster, moved.get(best.d.cluster)! - best.step);
      moved.set(best.r.cluster, moved.get(best.r.cluster)! + best.step);
      moves.push({ from: best.d.cluster, to: best.r.cluster, share: best.step, fromBad: best.fromBad, toBad: best.toBad, kind: "improve" });
    }
    if (moves.length === 0) driftTowardBase(adjustable, share, moved, moves, totalRps, config, mayMove, margin);
  }
  return { shares: share, moves, drainable: [...drainable] };
}

/**
 * The load a cluster is trusted with whatever its windows showed of its capacity: its base share
 * of the mesh's load (the operator sized it for that), but not past the knee its own windows
 * showed.
 */
export function trustedRps(c: PlanCluster, totalRps: number): number {
  return Math.min(c.baseShare * totalRps, c.response.kneeRps);
}

/**
 * The load a cluster would carry at share `s`: its observed load plus the mesh's load times the
 * change of share from the share its evidence was gathered at (PlanCluster.evidenceShare). At the
 * share in force the model thus predicts exactly what the cluster shows
 * (the realised split differs from the weights: smoothing, rounding, probes, a move not yet
 * visible in the windows).
 */
export function loadAt(c: PlanCluster, s: number, totalRps: number): number {
  return Math.max(0, c.response.loadRps + (s - (c.evidenceShare ?? c.share)) * totalRps);
}

/**
 * Whether taking all of `name`'s share away (its breaker opening) and giving it to the other
 * adjustable clusters as a breaker that opens does (freed-share.ts: to those doing as well as
 * usual, in proportion to their shares; to all of them when none is) is predicted to serve
 * clients better, by more than the margin: the opening is judged at the outcome it will have (a
 * pro-rata spread counted room on a troubled neighbour that the freed share never reaches). When
 * every cluster is about as bad (a shared dependency failing), opening one only overloads the
 * others: the answer is no, as Envoy's panic threshold keeps routing to all hosts when too few
 * look healthy.
 */
export function worthDraining(clusters: readonly PlanCluster[], name: string, totalRps: number, config: PlanConfig, planned?: ReadonlyMap<string, number>): boolean {
  const shareOf = (c: PlanCluster) => planned?.get(c.cluster) ?? c.share;
  const d = clusters.find((c) => c.cluster === name);
  const others = clusters.filter((c) => c.cluster !== name && c.adjustable);
  if (d === undefined || others.length === 0 || totalRps <= 0 || shareOf(d) <= EPS) return false;
  const othersShare = others.reduce((a, c) => a + shareOf(c), 0);
  const dLoad = loadAt(d, shareOf(d), totalRps);
  let before = predictBadRps(d.response, dLoad, trustedRps(d, totalRps));
  let after = 0;
  let worstError = 0;
  // The fraction of its load each other cluster takes, as a breaker that opens spreads it
  // (freed-share.ts): each one's start share with the whole freed share (1) added, less its own.
  const parts = othersShare > EPS
    ? spreadFreedShare(others.map(shareOf), others.map((r) => troubledBeyondUsual(r.response, config)), 1).map((s, i) => s - shareOf(others[i]!))
    : others.map(() => 1 / others.length);
  for (const [i, r] of others.entries()) {
    const part = parts[i]!;
    const rLoad = loadAt(r, shareOf(r), totalRps);
    before += predictBadRps(r.response, rLoad, trustedRps(r, totalRps));
    after += predictBadRps(r.response, rLoad + dLoad * part, trustedRps(r, totalRps));
    worstError = Math.max(worstError, badFractionError(r.response));
  }
  const gain = (before - after) / Math.max(EPS, dLoad);
  return gain > config.z * Math.hypot(badFractionError(d.response), worstError) + config.minGain;
}
