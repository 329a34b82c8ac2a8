// Envoy's client-side weighted round robin weights from per-request ORCA load reports, as one
// Envoy keeps them for one cluster's hosts (pure: time is passed in). Followed (envoyproxy/envoy):
//   - source/extensions/load_balancing_policies/common/orca_weight_manager.cc,
//     calculateWeightFromOrcaReport: qps = rps_fractional (a report with qps <= 0 is ignored);
//     utilisation = application_utilization when above 0, else cpu_utilization (no named metric
//     configured), plus error_utilization_penalty × eps / qps (a report with utilisation <= 0 is
//     ignored); weight = qps / utilisation.
//   - client_side_weighted_round_robin_lb.h, getWeightIfValid: a host's weight is valid once it has
//     reported for blackout_period (default 10 s) and while its last report is no older than
//     weight_expiration_period (default 3 min); an expired one starts its blackout again.
//   - updateWeightsOnHosts: hosts without a valid weight get the median of the valid ones (the
//     mean of the two middle ones for an even count); with none valid, every host weighs 1 (plain
//     round robin). Weights are recomputed every weight_update_period (default 1 s).
//   - error_utilization_penalty: the API documents a default of 1.0; the code reads the unset
//     wrapper as 0 (client_side_weighted_round_robin_lb.cc), so this baseline sets it to 1.0
//     explicitly, as the documentation describes it.
import type { HostLoad } from "../upstream.js";

/** The policy's settings (client_side_weighted_round_robin.proto), seconds. */
export const CSWRR_DEFAULTS = {
  blackoutPeriodS: 10,
  weightExpirationPeriodS: 180,
  weightUpdatePeriodS: 1,
  errorUtilizationPenalty: 1,
} as const;

export type CswrrConfig = { -readonly [K in keyof typeof CSWRR_DEFAULTS]: number };

/** A report's weight, or undefined when Envoy ignores it (no rate, or no utilisation). */
export function reportWeight(load: HostLoad, errorUtilizationPenalty: number): number | undefined {
  const qps = load.rpsFractional;
  if (!(qps > 0)) return undefined;
  const utilisation = load.utilization + (errorUtilizationPenalty * load.eps) / qps;
  if (!(utilisation > 0)) return undefined;
  return qps / utilisation;
}

/** One Envoy's weights for a set of hosts. */
export class OrcaWeights {
  /** Per host: its last accepted report's weight, when it started reporting, when it last did (NaN: never). */
  private readonly reported: Float64Array;
  private readonly nonEmptySince: Float64Array;
  private readonly lastUpdate: Float64Array;
  /** The weights in force, recomputed by update(). */
  readonly weights: Float64Array;

  constructor(hostCount: number, private readonly config: CswrrConfig = { ...CSWRR_DEFAULTS }) {
    this.reported = new Float64Array(hostCount);
    this.nonEmptySince = new Float64Array(hostCount).fill(Number.NaN);
    this.lastUpdate = new Float64Array(hostCount).fill(Number.NaN);
    this.weights = new Float64Array(hostCount).fill(1);
  }

  /** A response from `host` carried `load` at nowS. */
  onReport(host: number, load: HostLoad, nowS: number): void {
    const weight = reportWeight(load, this.config.errorUtilizationPenalty);
    if (weight === undefined) return;
    if (Number.isNaN(this.nonEmptySince[host]!)) this.nonEmptySince[host] = nowS;
    this.lastUpdate[host] = nowS;
    this.reported[host] = weight;
  }

  /** The host's weight if valid at nowS (updateWeightsOnHosts's view of it), else undefined. */
  private validWeight(host: number, nowS: number): number | undefined {
    const since = this.nonEmptySince[host]!;
    if (Number.isNaN(since)) return undefined;
    if (nowS - this.lastUpdate[host]! > this.config.weightExpirationPeriodS) {
      this.nonEmptySince[host] = Number.NaN; // expired: its blackout starts again with its next report
      return undefined;
    }
    if (nowS - since < this.config.blackoutPeriodS) return undefined;
    return this.reported[host];
  }

  /** Recomputes the weights in force (every weight_update_period). */
  update(nowS: number): void {
    const valid: number[] = [];
    const hostWeights: Array<number | undefined> = [];
    for (let h = 0; h < this.weights.length; h++) {
      const w = this.validWeight(h, nowS);
      hostWeights.push(w);
      if (w !== undefined) valid.push(w);
    }
    const fallback = valid.length === 0 ? 1 : median(valid);
    for (let h = 0; h < this.weights.length; h++) this.weights[h] = valid.length === 0 ? 1 : (hostWeights[h] ?? fallback);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
