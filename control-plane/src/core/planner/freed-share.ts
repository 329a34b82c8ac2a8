// Where the share of a cluster whose breaker opened goes (pure): the round's start shares of the
// clusters still closed (round-plan.ts planRound), and where the judgement of whether to open it
// counts that share going (planner.ts worthDraining).
//
// A breaker that opens takes its cluster's share out of the split, and the clusters still closed
// must carry it. Spread over them in proportion to their shares in force, it also goes to
// clusters failing beside the opened one: an implicit move of traffic onto clusters predicted
// worse than the others, which the planner's own moves never make (planner.ts: a step goes only
// to a cluster predicted better at its new load). On a fleet where a shared fault hit several
// clusters at once, that rescaling gave a cluster failing three quarters of its requests from
// overload a pro-rata part of each share freed by its neighbours' breakers, round after round,
// while a healthy cluster beside it had room (generalization-notes.md, "2026-12-07, eleventh
// round"). So the freed share goes to the clusters doing as well as usual, in proportion to their
// shares in force; when none is (everything degraded at once), to all of them as before: nothing
// is better, and the operator's proportions stay (the idea behind Envoy's panic threshold).
import { badFractionError, type LoadResponse } from "./load-response.js";
import type { PlanConfig } from "./planner.js";

/**
 * Whether a cluster fails beyond its usual level by more than the planner's noise margin: its bad
 * fraction over its usual one (capacity.ts) by more than z standard errors of the observed
 * fraction plus minGain, the margin a donor's trouble must clear before the planner moves its
 * traffic (planner.ts).
 */
export function troubledBeyondUsual(r: LoadResponse, config: Pick<PlanConfig, "z" | "minGain">): boolean {
  return r.badFraction - (r.usualBadFraction ?? 0) > config.z * badFractionError(r) + config.minGain;
}

/**
 * The shares clusters start from when `freed` (> 0, a fraction of the mesh's traffic) is added to
 * their shares in force `inForce` (fractions, same order as `troubled`): the clusters not
 * troubled take it in proportion to their shares; when every one is troubled (or the untroubled
 * ones carry nothing), all of them do. The result sums to sum(inForce) + freed.
 */
export function spreadFreedShare(inForce: readonly number[], troubled: readonly boolean[], freed: number): number[] {
  const fineSum = inForce.reduce((a, s, i) => a + (troubled[i] === true ? 0 : s), 0);
  const takers = fineSum > 0 ? fineSum : inForce.reduce((a, s) => a + s, 0);
  if (!(takers > 0)) return [...inForce];
  return inForce.map((s, i) => s + (fineSum > 0 && troubled[i] === true ? 0 : (s / takers) * freed));
}
