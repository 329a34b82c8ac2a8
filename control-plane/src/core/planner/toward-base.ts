// The planner's way back toward the operator's base shares (pure), made when no step away from
// bad requests gains (planner.ts planShares): in doubt, base weights.
import { predictBadFraction, type LoadResponse } from "./load-response.js";
import { EPS, loadAt, trustedRps, type MayMove, type PlanCluster, type PlanConfig, type PlanMove } from "./planner.js";

/**
 * One step back toward base: from the cluster most above its base share to the one most below,
 * when that costs clients no more than minGain per moved request (in doubt, the operator's weights).
 * The cost counts bad requests beyond each cluster's usual level, as a move away does: a cluster
 * that is always a little worse than the donor (the operator weighted it knowing that) gets its
 * share back once it is at its usual level again. Counted in raw bad requests, such a cluster
 * stayed below its base share for good after a fault moved its traffic away, at whatever share
 * the fault left it (on the tuning batches: at half its base share, a false cut in every window
 * whose share the requests' draw put under the half).
 *
 * The receiver is trusted with its base share up to the knee its windows showed (trustedRps). Two
 * exceptions keep the way home open:
 *   - a donor above its base share that does worse than its usual level by the margin was given
 *     more than it can serve (the planner's own move proved wrong, or the load rose under it):
 *     the receiver is then trusted with its whole base share, the share the operator sized it
 *     for. Its knee may be one a fault showed (a latency step at a steady load is recorded as a
 *     knee at that load, and divided again by the slowdown: assessment.ts), which would keep the
 *     extra share on the failing donor;
 *   - the step is at most what takes the receiver to the load it is trusted with, when it is
 *     below that: a full step past it is refused, and a cluster left low after a fault would stay
 *     there for good.
 *
 * Shares in force are integer weights (weights.ts), so a cluster "at" its base share is off the
 * exact share by up to one weight unit (config.shareResolution). Such a gap is rounding, not
 * drift, and is left alone: a sub-unit step would be undone by the next set's rounding, yet count
 * as a move (lastMove) and hold the pair's real moves back for settleRounds. With it, nearly every
 * round some cluster was "settling" and a fault's first move waited a few rounds by accident
 * (traced: a cluster losing half its capacity failed a quarter to half of its requests for three
 * windows while these sub-unit moves, its own and its receivers', refused every step;
 * generalization-notes.md, "2026-12-07, tenth round").
 */
export function driftTowardBase(
  adjustable: readonly PlanCluster[],
  share: Map<string, number>,
  moved: Map<string, number>,
  moves: PlanMove[],
  totalRps: number,
  config: PlanConfig,
  mayMove: MayMove,
  margin: (d: PlanCluster, r: PlanCluster) => number,
): void {
  // One step, and more while the step taken returned an over-served donor's excess (within the
  // per-round bounds mayMove keeps; at most as many steps as the planner's own moves).
  const maxSteps = Math.ceil((config.maxStep / config.step) * adjustable.length) + 1;
  for (let i = 0; i < maxSteps; i++) {
    if (stepTowardBase() !== "over_served") return;
  }

  /**
   * One step back toward base, if any is allowed and cheap enough: "over_served" when it came from
   * a donor above its base share doing worse than its usual level by the margin, "step" for any
   * other, undefined when none was taken.
   *
   * An over-served donor's way back is not held by settle rounds (its own or its receiver's), and
   * it may go on within the round up to the per-round bounds: the settling wait is there so that a
   * move's effect shows before the next one on lagging evidence, and a step back toward the
   * operator's weights cannot overshoot them, while every round waited costs clients the donor's
   * failures (traced: a cluster given a third more than its base share, which then lost half its
   * capacity, failed a quarter to a third of its requests for 30 s while its excess went back one
   * step every third window; generalization-notes.md, "2026-12-07, fourteenth round"). Reversal
   * rounds still hold: a receiver that just moved down is not sent back up at once.
   */
  function stepTowardBase(): "over_served" | "step" | undefined {
    // Gaps below one weight unit are the weights' rounding (see above).
    const gap = Math.max(EPS, config.shareResolution);
    // Candidates by every bound but settling; a pair that is not an over-served donor's way back
    // is held by settling below.
    const above = adjustable
      .filter((c) => share.get(c.cluster)! - c.baseShare > gap && mayMove(c, -1, config.step, false))
      .sort((a, b) => share.get(b.cluster)! - b.baseShare - (share.get(a.cluster)! - a.baseShare));
    const below = adjustable
      .filter((c) => c.baseShare - share.get(c.cluster)! > gap && mayMove(c, 1, config.step, false))
      .sort((a, b) => b.baseShare - share.get(b.cluster)! - (a.baseShare - share.get(a.cluster)!));
    for (const d of above) {
      for (const r of below) {
        const sd = share.get(d.cluster)!;
        const sr = share.get(r.cluster)!;
        const overServed = d.response.badFraction - (d.response.usualBadFraction ?? 0) > margin(d, r);
        if (!overServed && (!mayMove(d, -1) || !mayMove(r, 1))) continue;
        const trusted = overServed ? r.baseShare * totalRps : trustedRps(r, totalRps);
        const room = totalRps > 0 ? (trusted - loadAt(r, sr, totalRps)) / totalRps : 0;
        let step = Math.min(config.step, sd - d.baseShare, r.baseShare - sr);
        if (room > EPS) step = Math.min(step, room);
        if (step <= EPS) continue;
        // Judged on trouble beyond each cluster's usual level: one that is always a little worse
        // than another was weighted by the operator knowing that, and is not kept from its share.
        const before = predictExcessBadRps(d.response, loadAt(d, sd, totalRps)) + predictExcessBadRps(r.response, loadAt(r, sr, totalRps), trusted);
        const after = predictExcessBadRps(d.response, loadAt(d, sd - step, totalRps)) + predictExcessBadRps(r.response, loadAt(r, sr + step, totalRps), trusted);
        const cost = (after - before) / Math.max(EPS, loadAt(d, sd, totalRps) - loadAt(d, sd - step, totalRps));
        // Hysteresis: a move away needs a gain beyond the noise; the way back only needs to cost
        // clients no more than minGain per moved request.
        if (cost > config.minGain) continue;
        share.set(d.cluster, sd - step);
        share.set(r.cluster, sr + step);
        moved.set(d.cluster, moved.get(d.cluster)! - step);
        moved.set(r.cluster, moved.get(r.cluster)! + step);
        moves.push({
          from: d.cluster,
          to: r.cluster,
          share: step,
          fromBad: predictBadFraction(d.response, loadAt(d, sd, totalRps)),
          toBad: predictBadFraction(r.response, loadAt(r, sr + step, totalRps), trusted),
          kind: "toward_base",
        });
        return overServed ? "over_served" : "step";
      }
    }
    return undefined;
  }
}

/** Requests per second predicted bad at `loadRps` beyond the cluster's usual bad fraction (the
 *  observed excess of a round, with its noise margin, is strained-wait.ts excessBadRps). */
function predictExcessBadRps(m: LoadResponse, loadRps: number, trustedRps = 0): number {
  return loadRps <= 0 ? 0 : loadRps * Math.max(0, predictBadFraction(m, loadRps, trustedRps) - (m.usualBadFraction ?? 0));
}
