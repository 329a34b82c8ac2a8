// Traffic weights from breaker states, risks and capacities (pure).
//
// 1. Targets: an open cluster gets nothing; a half-open one its probe share; a closed one its
//    base share reduced in proportion to its risk above the least risky cluster's (risk below
//    minRiskToShift moves nothing), never below the probe floor.
// 2. What the risky clusters give up goes to the others in proportion to their base shares, but
//    no receiver is pushed past its capacity limit (water-filling). What no one can take goes
//    back to the closed clusters that gave it (a degraded cluster beats an overloaded one);
//    traffic of open clusters is placed anyway (it would fail where it was).
// 3. Each share moves at most maxStepShare per round, except that opening drains at once.
// 4. Panic: when every cluster is open, everybody gets base weights.
import type { WeightConfig } from "./config.js";
import type { BreakerKind } from "./types.js";

export interface WeightInput {
  cluster: string;
  baseWeight: number;
  state: BreakerKind;
  /** Combined risk, [0, 1]. */
  risk: number;
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
  /** Clusters whose share is held back by others' capacity. */
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
  const givenByClosed = new Map<string, number>();
  let fromClosed = 0;
  let fromOthers = 0;
  for (const c of inputs) {
    const b = base.get(c.cluster)!;
    let t: number;
    if (c.state === "open") t = 0;
    else if (c.state === "half_open") t = Math.min(b, Math.max(config.probeFloorShare, b * c.probeFraction));
    else {
      const excess = c.risk - minRisk;
      t = excess >= config.minRiskToShift ? b * (1 - excess) : b;
      t = Math.max(t, Math.min(b, config.probeFloorShare));
    }
    target.set(c.cluster, t);
    if (c.state === "closed") {
      givenByClosed.set(c.cluster, b - t);
      fromClosed += b - t;
    } else fromOthers += b - t;
  }

  // Receivers: closed clusters that gave nothing; fill up to capacity.
  const receivers = closed.filter((c) => (givenByClosed.get(c.cluster) ?? 0) <= 1e-9);
  const capShare = (c: WeightInput) =>
    totalRps > 0 && Number.isFinite(c.limitRps) ? Math.max(target.get(c.cluster)!, c.limitRps / totalRps) : Infinity;
  let toPlace = fromClosed + fromOthers;
  let open = receivers.slice();
  while (toPlace > 1e-9 && open.length > 0) {
    const weightSum = open.reduce((a, c) => a + base.get(c.cluster)!, 0);
    let placed = 0;
    const still: WeightInput[] = [];
    for (const c of open) {
      const want = (toPlace * base.get(c.cluster)!) / weightSum;
      const room = capShare(c) - target.get(c.cluster)!;
      const give = Math.min(want, room);
      target.set(c.cluster, target.get(c.cluster)! + give);
      placed += give;
      if (room - give > 1e-9) still.push(c);
    }
    toPlace -= placed;
    if (still.length === open.length && placed <= 1e-12) break;
    open = still;
  }
  const capacityLimited: string[] = [];
  if (toPlace > 1e-9) {
    // Back to the closed donors first (pro rata to what they gave) …
    const back = Math.min(toPlace, fromClosed);
    if (back > 0 && fromClosed > 0) {
      for (const [cluster, gave] of givenByClosed) {
        if (gave <= 0) continue;
        target.set(cluster, target.get(cluster)! + (back * gave) / fromClosed);
        capacityLimited.push(cluster);
      }
      toPlace -= back;
    }
    // … and what open clusters shed goes to the receivers past their limits.
    const sink = receivers.length > 0 ? receivers : closed;
    if (toPlace > 1e-9 && sink.length > 0) {
      const weightSum = sink.reduce((a, c) => a + base.get(c.cluster)!, 0);
      for (const c of sink) target.set(c.cluster, target.get(c.cluster)! + (toPlace * base.get(c.cluster)!) / weightSum);
      toPlace = 0;
    }
  }

  // Rate limit (opening and half-open probe shares are not limited).
  const limited = new Map<string, number>();
  for (const c of inputs) {
    const t = target.get(c.cluster)!;
    const prev = c.previousShare;
    if (prev === undefined || c.state !== "closed") limited.set(c.cluster, t);
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
