// Traffic weights from breaker states, risks and capacities (pure).
//
// 1. Targets: an open cluster gets nothing; a half-open one its probe share; a closed one its
//    base share reduced in proportion to its risk above the least risky cluster's (risk below
//    minRiskToShift moves nothing). A healthy cluster (not predicted to break) keeps at least
//    HEALTHY_FLOOR of its base share; one predicted to break keeps the probe floor.
// 2. What the open, half-open and risk-reduced clusters do not hold goes to the other closed
//    clusters in proportion to their base weights, capped by each one's estimated safe capacity
//    (water-filling: what a capped cluster cannot take goes to the others). A cluster's cap never
//    cuts it below its own target. What no one can take goes back to the risk-reduced clusters
//    (a degraded cluster beats an overloaded one), then to every closed cluster pro rata to its
//    limit when all limits are known (equal utilisation), else to base (nobody piled on).
// 3. Hysteresis: a closed cluster's share that would move by less than SHARE_DEADBAND stays
//    where it was; larger moves go at most maxStepShare per round, except that opening drains
//    at once.
// 4. Panic: when every cluster is open, everybody gets base weights.
import type { WeightConfig } from "./config.js";
import type { BreakerKind } from "./types.js";

/** Fraction of its base share a healthy closed cluster keeps whatever its soft risk. */
export const HEALTHY_FLOOR = 0.5;
/** Share changes of a closed cluster smaller than this (fraction of total) are not made. */
export const SHARE_DEADBAND = 0.02;

export interface WeightInput {
  cluster: string;
  baseWeight: number;
  state: BreakerKind;
  /** Combined risk, [0, 1]. */
  risk: number;
  /**
   * The cluster is predicted to break (hard evidence or a sustained trip not explained by the
   * load put on it): it may be drained down to the probe floor. Otherwise it keeps at least
   * HEALTHY_FLOOR of its base share. Default false.
   */
  breaking?: boolean;
  /** For half_open: fraction of the base share to probe with, (0, 1]. */
  probeFraction: number;
  /** Current load, requests per second (newest window). */
  loadRps: number;
  /** Most the cluster should get, requests per second (Infinity: unknown / unlimited). */
  limitRps: number;
  /** Share in the previous decision set, [0, 1] (undefined: none yet). */
  previousShare?: number;
}

export interface WeightResult {
  /** Shares summing to 1 (or all base in panic). */
  shares: Map<string, number>;
  panic: boolean;
  /** Closed clusters at their capacity limit (the others could not take more from them, or they could take no more). */
  capacityLimited: string[];
}

export function computeShares(inputs: readonly WeightInput[], config: WeightConfig): WeightResult {
  const baseTotal = inputs.reduce((a, c) => a + c.baseWeight, 0);
  const base = new Map(inputs.map((c) => [c.cluster, c.baseWeight / baseTotal]));
  if (inputs.every((c) => c.state === "open")) return { shares: base, panic: true, capacityLimited: [] };

  const totalRps = inputs.reduce((a, c) => a + c.loadRps, 0);
  const closed = inputs.filter((c) => c.state === "closed");
  const minRisk = closed.length > 0 ? Math.min(...closed.map((c) => c.risk)) : 0;
  const target = new Map<string, number>();
  let fixedShare = 0;
  for (const c of inputs) {
    const b = base.get(c.cluster)!;
    if (c.state === "open") target.set(c.cluster, 0);
    else if (c.state === "half_open") {
      const t = Math.min(b, Math.max(config.probeFloorShare, b * c.probeFraction));
      target.set(c.cluster, t);
      fixedShare += t;
    } else {
      const excess = c.risk - minRisk;
      let t = excess >= config.minRiskToShift ? b * (1 - excess) : b;
      const floor = c.breaking === true ? Math.min(b, config.probeFloorShare) : b * HEALTHY_FLOOR;
      t = Math.max(t, floor);
      target.set(c.cluster, t);
    }
  }

  // Receivers (closed, not reduced by risk) take what is not held, pro rata to base, capped
  // (water-filling); what they cannot take goes back to the risk-reduced donors (up to their base
  // shares), then to every closed cluster pro rata to base.
  const capacityLimited: string[] = [];
  const share = new Map(target);
  if (closed.length > 0) {
    const donors = closed.filter((c) => target.get(c.cluster)! < base.get(c.cluster)! - 1e-12);
    const receivers = closed.filter((c) => !donors.includes(c));
    const cap = (c: WeightInput) =>
      totalRps > 0 && Number.isFinite(c.limitRps) ? Math.max(target.get(c.cluster)!, c.limitRps / totalRps) : Infinity;
    let remaining = Math.max(0, 1 - fixedShare - donors.reduce((a, c) => a + target.get(c.cluster)!, 0));
    let active = receivers.slice();
    while (active.length > 0 && remaining > 1e-12) {
      const weightSum = active.reduce((a, c) => a + base.get(c.cluster)!, 0);
      const scale = remaining / weightSum;
      const capped = active.filter((c) => scale * base.get(c.cluster)! > cap(c) + 1e-12);
      if (capped.length === 0) {
        for (const c of active) share.set(c.cluster, scale * base.get(c.cluster)!);
        remaining = 0;
        break;
      }
      for (const c of capped) {
        share.set(c.cluster, cap(c));
        remaining -= cap(c);
        capacityLimited.push(c.cluster);
      }
      active = active.filter((c) => !capped.includes(c));
    }
    // A degraded cluster beats an overloaded one: donors take back what they gave, up to their
    // base share and their own limit (a donor degraded by overload is no receiver of more).
    const giveBack = (c: WeightInput) => Math.max(0, Math.min(base.get(c.cluster)!, cap(c)) - target.get(c.cluster)!);
    const gave = donors.reduce((a, c) => a + giveBack(c), 0);
    if (remaining > 1e-12 && gave > 0) {
      const back = Math.min(remaining, gave);
      for (const c of donors) {
        share.set(c.cluster, share.get(c.cluster)! + (back * giveBack(c)) / gave);
        capacityLimited.push(c.cluster);
      }
      remaining -= back;
    }
    if (remaining > 1e-12) {
      // Everybody is at its estimated limit: the rest pro rata to those limits when all are
      // known (the overload spreads as equal utilisation), else pro rata to base; nobody piled on.
      const limits = closed.map((c) => c.limitRps);
      if (limits.every((l) => Number.isFinite(l) && l > 0)) {
        const pool = closed.reduce((a, c) => a + share.get(c.cluster)!, 0) + remaining;
        const limitSum = limits.reduce((a, b) => a + b, 0);
        closed.forEach((c, i) => share.set(c.cluster, (pool * limits[i]!) / limitSum));
      } else {
        const weightSum = closed.reduce((a, c) => a + base.get(c.cluster)!, 0);
        for (const c of closed) share.set(c.cluster, share.get(c.cluster)! + (remaining * base.get(c.cluster)!) / weightSum);
      }
    }
  }

  // Hysteresis and rate limit (opening and half-open probe shares are not limited).
  const limited = new Map<string, number>();
  for (const c of inputs) {
    const t = share.get(c.cluster)!;
    const prev = c.previousShare;
    if (prev === undefined || c.state !== "closed") limited.set(c.cluster, t);
    else if (Math.abs(t - prev) < SHARE_DEADBAND) limited.set(c.cluster, prev);
    else limited.set(c.cluster, Math.min(prev + config.maxStepShare, Math.max(prev - config.maxStepShare, t)));
  }
  const sum = [...limited.values()].reduce((a, b) => a + b, 0);
  if (sum <= 1e-9) return { shares: base, panic: true, capacityLimited };
  for (const [k, v] of limited) limited.set(k, v / sum);
  return { shares: limited, panic: false, capacityLimited };
}


/** Integer weights on config.totalWeight, rounded to 1% steps of the total (less churn). */
export function sharesToWeights(shares: ReadonlyMap<string, number>, totalWeight: number): Map<string, number> {
  const step = Math.max(1, Math.round(totalWeight / 100));
  const out = new Map<string, number>();
  for (const [k, v] of shares) out.set(k, Math.round((v * totalWeight) / step) * step);
  return out;
}
