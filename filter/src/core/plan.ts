// The plan a worker enforces: per configured cluster (by index) a breaker state, a weight, a
// probe fraction and a retry-after; plus the mesh-wide halt. Built from the control plane's
// DecisionSet after validation (a set that fails is NACKed and the last good plan kept), or from
// the configuration's base weights.
import { DecisionSet, HALT_MODE_IMMEDIATE } from "../wire/messages";
import { dec, decSigned, numberText } from "./numbertext";
import { printable } from "./printable";
import { STATE_CLOSED, STATE_HALF_OPEN, STATE_OPEN } from "./breakerstate";
import { prepareLimits } from "./sourcelimits";
import { SourceLimit } from "../wire/messages";

export class Plan {
  /** Decision version (0: the configuration's base plan). */
  version: u64 = 0;
  /** How long the plan outlives the control plane's stream, milliseconds. */
  ttlMs: u32 = 0;
  halted: bool = false;
  haltReason: string = "";
  /** Halted in mode immediate (HALT_MODE_IMMEDIATE): response streams in flight are cut too. */
  haltImmediate: bool = false;
  weights: StaticArray<u32>;
  states: StaticArray<i32>;
  /** For half-open clusters: the admitted fraction of their share, (0, 1]. */
  probeFractions: StaticArray<f64>;
  /** For open clusters: the local reply's retry-after, seconds (0: the configured default). */
  retryAfterS: StaticArray<u32>;
  /** Per cluster: the fraction of its new requests admitted, (1 - mesh shed) * (1 - its shed),
   *  [0, 1]; only read when `shedding`. */
  admitFractions: StaticArray<f64>;
  /** Whether any request is shed (some admit fraction below 1): the per-request check's gate. */
  shedding: bool = false;
  /** The mesh-wide shed's reason ("" for none). */
  shedReason: string = "";
  /** The set's source limits, keyed (core/sourcelimits.ts); null when it has none. */
  limits: SourceLimit[] | null = null;

  constructor(size: i32) {
    this.weights = new StaticArray<u32>(size);
    this.states = new StaticArray<i32>(size);
    this.probeFractions = new StaticArray<f64>(size);
    this.retryAfterS = new StaticArray<u32>(size);
    this.admitFractions = new StaticArray<f64>(size);
  }
}

/** The base plan: every cluster closed at its configured weight. */
export function basePlan(baseWeights: StaticArray<u32>): Plan {
  const n = baseWeights.length;
  const plan = new Plan(n);
  for (let i = 0; i < n; i++) {
    unchecked((plan.weights[i] = baseWeights[i]));
    unchecked((plan.states[i] = STATE_CLOSED));
    unchecked((plan.probeFractions[i] = 1.0));
    unchecked((plan.admitFractions[i] = 1.0));
  }
  return plan;
}

/** A fraction as read from the wire (field `name`): [0, 1], else an error naming the field. */
function fractionError(at: string, name: string, f: f32): string | null {
  const v = <f64>f;
  if (isNaN(v) || v < 0.0 || v > 1.0) return at + name + ": expected [0, 1], got " + numberText(v);
  return null;
}

export class PlanResult {
  plan: Plan | null = null;
  /** Why the set was rejected, naming the field; null when valid. */
  error: string | null = null;
}

function fail(message: string): PlanResult {
  const r = new PlanResult();
  r.error = message;
  return r;
}

function indexOf(names: string[], name: string): i32 {
  for (let i = 0; i < names.length; i++) if (unchecked(names[i]) == name) return i;
  return -1;
}

/**
 * Validates a decision set against the configured clusters and builds its plan. Rejects: version
 * 0 or older than `enforcedVersion`; unknown or repeated clusters; states other than CLOSED,
 * OPEN, HALF_OPEN; NaN or out-of-range fractions (probe, shed) and scores; weights whose sum is not > 0 (unless
 * halted). Configured clusters the set does not name get weight 0 (reachable only explicitly).
 * A source limit whose admit fraction is not in [0, 1] is refused too.
 */
export function planFromDecisions(set: DecisionSet, names: string[], enforcedVersion: u64): PlanResult {
  if (set.version == 0) return fail("version: must be > 0");
  if (set.version < enforcedVersion) {
    return fail("version: " + dec(set.version) + " < enforced " + dec(enforcedVersion));
  }
  const n = names.length;
  const plan = new Plan(n);
  plan.version = set.version;
  plan.ttlMs = set.ttlMs;
  plan.halted = set.halted;
  plan.haltImmediate = set.halted && set.haltMode == HALT_MODE_IMMEDIATE;
  plan.haltReason = printable(set.haltReason);
  const meshShedError = fractionError("", "shed_fraction", set.shedFraction);
  if (meshShedError !== null) return fail(meshShedError);
  const meshAdmit = 1.0 - <f64>set.shedFraction;
  plan.shedReason = printable(set.shedReason);
  for (let i = 0; i < n; i++) {
    unchecked((plan.states[i] = STATE_CLOSED));
    unchecked((plan.probeFractions[i] = 1.0));
    unchecked((plan.admitFractions[i] = meshAdmit));
  }
  const seen = new StaticArray<bool>(n);
  let weightSum: u64 = 0;
  for (let k = 0; k < set.clusters.length; k++) {
    const c = unchecked(set.clusters[k]);
    const at = "clusters[" + dec(k) + "]";
    const i = indexOf(names, c.cluster);
    if (i < 0) return fail(at + ".cluster: unknown cluster \"" + printable(c.cluster) + "\" (known: " + names.join(", ") + ")");
    if (unchecked(seen[i])) return fail(at + ".cluster: \"" + printable(c.cluster) + "\" appears twice");
    unchecked((seen[i] = true));
    if (c.state != STATE_CLOSED && c.state != STATE_OPEN && c.state != STATE_HALF_OPEN) {
      return fail(at + ".state: expected 1..3 (CLOSED..HALF_OPEN), got " + decSigned(c.state));
    }
    const p = <f64>c.probeFraction;
    if (isNaN(p)) return fail(at + ".probe_fraction: NaN");
    if (c.state == STATE_HALF_OPEN && !(p > 0.0 && p <= 1.0)) {
      return fail(at + ".probe_fraction: expected (0, 1] if HALF_OPEN, got " + numberText(p));
    }
    const scoreError = fractionError(at + ".", "anomaly_score", c.anomalyScore);
    if (scoreError !== null) return fail(scoreError);
    const clusterShedError = fractionError(at + ".", "shed_fraction", c.shedFraction);
    if (clusterShedError !== null) return fail(clusterShedError);
    unchecked((plan.admitFractions[i] = meshAdmit * (1.0 - <f64>c.shedFraction)));
    unchecked((plan.states[i] = c.state));
    unchecked((plan.weights[i] = c.weight));
    unchecked((plan.probeFractions[i] = c.state == STATE_HALF_OPEN ? p : 1.0));
    unchecked((plan.retryAfterS[i] = c.retryAfterS));
    weightSum += <u64>c.weight;
  }
  if (!set.halted && weightSum == 0) return fail("clusters: weights sum to 0");
  const bad = prepareLimits(set.sourceLimits);
  if (bad >= 0) {
    return fail(fractionError("source_limits[" + dec(bad) + "].", "admit_fraction", unchecked(set.sourceLimits[bad]).admitFraction) as string);
  }
  if (set.sourceLimits.length > 0) plan.limits = set.sourceLimits;
  for (let i = 0; i < n; i++) if (unchecked(plan.admitFractions[i]) < 1.0) plan.shedding = true;
  const r = new PlanResult();
  r.plan = plan;
  return r;
}
