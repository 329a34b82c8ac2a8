// Fault timeline of a scenario: each fault (and each repetition of it) as an occurrence with its
// start, end and ramps, and the combined effect on a host at any time.
//
// Semantics (from the scenarios README): a fault hits the first `endpoints` hosts of its cluster
// from at_s for for_s seconds; its effect grows linearly from nothing to full over ramp_s (within
// for_s) and fades out linearly over recover_ramp_s after for_s ends. `repeat: {every_s, times}`
// starts the same fault again every every_s: `times` occurrences in all, the first at at_s.
// Effects of overlapping faults on one host combine: latency and capacity multipliers multiply,
// added error rates add (capped at 1), down chances and cut chances combine as independent events;
// stream multipliers (ttft_x, tpot_x) multiply like latency_x, and overlapping cut faults end their
// cut streams the way of the one that started last (cut_as).
import type { CutAs, Scenario, ScenarioFault } from "./scenario.js";

/** One occurrence of a fault. Times in scenario seconds. */
export interface FaultOccurrence {
  /** Index into scenario.faults. */
  fault: number;
  /** 0 for the first occurrence, then 1, 2, … for repetitions. */
  occurrence: number;
  /** Index into scenario.clusters. */
  cluster: number;
  /** Hosts 0 .. endpoints-1 of the cluster are hit. */
  endpoints: number;
  startS: number;
  /** start + for_s: the fault's end as the report measures recovery from it. */
  endS: number;
  /** end + recover_ramp_s: no effect is left after this. */
  effectEndS: number;
  spec: ScenarioFault;
}

/** The combined effect of the faults on one host at one time. Neutral: NO_EFFECT. */
export interface HostEffect {
  latencyX: number;
  addedErrorRate: number;
  capacityX: number;
  /** Chance that the host refuses a request at once (503). */
  downChance: number;
  /** Multiplier on a stream's time to first token (prefill queueing). */
  ttftX: number;
  /** Multiplier on a stream's time per output token (decode slowdown). */
  tpotX: number;
  /** Chance that a stream is cut before its end. */
  cutRate: number;
  /** How a cut stream ends. */
  cutAs: CutAs;
}

export const NO_EFFECT: Readonly<HostEffect> = Object.freeze({
  latencyX: 1, addedErrorRate: 0, capacityX: 1, downChance: 0, ttftX: 1, tpotX: 1, cutRate: 0, cutAs: "error_event",
});

/** Every occurrence of every fault, ordered by start time (ties: file order). */
export function faultOccurrences(scenario: Scenario): FaultOccurrence[] {
  const list: FaultOccurrence[] = [];
  const clusterIndex = new Map(scenario.clusters.map((c, i) => [c.name, i]));
  scenario.faults.forEach((spec, fault) => {
    const times = spec.repeat?.times ?? 1;
    for (let occurrence = 0; occurrence < times; occurrence++) {
      const startS = spec.at_s + occurrence * (spec.repeat?.every_s ?? 0);
      const endS = startS + spec.for_s;
      list.push({
        fault, occurrence, cluster: clusterIndex.get(spec.cluster)!, endpoints: spec.endpoints,
        startS, endS, effectEndS: endS + spec.recover_ramp_s, spec,
      });
    }
  });
  return list.sort((x, y) => x.startS - y.startS || x.fault - y.fault || x.occurrence - y.occurrence);
}

/** Strength of an occurrence at time t, in [0, 1]: ramps up over ramp_s, full until the end, fades over recover_ramp_s. */
export function intensityAt(o: FaultOccurrence, t: number): number {
  if (t < o.startS || t >= o.effectEndS) return 0;
  const ramp = o.spec.ramp_s;
  if (ramp > 0 && t < o.startS + ramp) return (t - o.startS) / ramp;
  if (t < o.endS) return 1;
  const recover = o.spec.recover_ramp_s;
  return recover > 0 ? 1 - (t - o.endS) / recover : 0;
}

/** Answers "what is wrong with host h of cluster c at time t" for the upstream model. */
export class FaultTimeline {
  readonly occurrences: readonly FaultOccurrence[];
  private readonly byCluster: FaultOccurrence[][];

  constructor(scenario: Scenario) {
    this.occurrences = faultOccurrences(scenario);
    this.byCluster = scenario.clusters.map(() => []);
    for (const o of this.occurrences) this.byCluster[o.cluster]!.push(o);
  }

  /** Combined effect on host `host` of cluster `cluster` at time t (seconds); NO_EFFECT when none. */
  effectOn(cluster: number, host: number, t: number): Readonly<HostEffect> {
    let effect: HostEffect | undefined;
    for (const o of this.byCluster[cluster]!) {
      if (o.startS > t) break;
      if (host >= o.endpoints) continue;
      const f = intensityAt(o, t);
      if (f <= 0) continue;
      effect ??= { ...NO_EFFECT };
      effect.latencyX *= 1 + (o.spec.latency_x - 1) * f;
      effect.addedErrorRate = Math.min(1, effect.addedErrorRate + o.spec.error_rate * f);
      effect.capacityX *= 1 + (o.spec.capacity_x - 1) * f;
      if (o.spec.down) effect.downChance = 1 - (1 - effect.downChance) * (1 - f);
      if (o.spec.ttft_x !== undefined) effect.ttftX *= 1 + (o.spec.ttft_x - 1) * f;
      if (o.spec.tpot_x !== undefined) effect.tpotX *= 1 + (o.spec.tpot_x - 1) * f;
      if (o.spec.cut_rate !== undefined && o.spec.cut_rate > 0) {
        effect.cutRate = 1 - (1 - effect.cutRate) * (1 - o.spec.cut_rate * f);
        effect.cutAs = o.spec.cut_as ?? "error_event";
      }
    }
    return effect ?? NO_EFFECT;
  }

  /** True when some occurrence has an effect on the cluster at time t. */
  activeOn(cluster: number, t: number): boolean {
    for (const o of this.byCluster[cluster]!) {
      if (o.startS > t) break;
      if (t < o.effectEndS) return true;
    }
    return false;
  }

  /** Occurrences on one cluster, by start time. */
  onCluster(cluster: number): readonly FaultOccurrence[] {
    return this.byCluster[cluster]!;
  }
}
