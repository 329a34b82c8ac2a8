// Rollback: an operator republishes an earlier decision set (found by version in the audit log)
// and pins it, as an override pins one cluster, until released or its expiry. What is pinned is
// what the detectors and the planner decide (each cluster's state, weight, probe fraction,
// retry-after); what operators and triggers force still applies on top, as it does over the
// policy's own decisions: the halt in force (an emergency stop is never undone by a rollback),
// an override's cluster and a cluster a trigger holds open take the decision the override or
// trigger makes, and the triggers' shed fractions apply (triggers/actions.ts). The earlier set's
// own halt and shed are not republished. The breakers keep stepping underneath, so once the pin
// ends the next round issues the automatic decisions again.
//
// Pure: times are epoch ms passed in; the audit log is read by the caller
// (audit/decision-history.ts), which hands over what it found (RollbackLookup).
import { ControlPlaneError } from "./errors.js";
import type { ClusterDecision, DecisionSet, Rollback } from "./types.js";

/** What the audit log holds of a version: the set, or (not found) the range of versions it keeps. */
export type RollbackLookup =
  | { kind: "found"; set: DecisionSet }
  | { kind: "missing"; /** Oldest and newest version of a set the log retains (undefined: none). */ oldest?: number; newest?: number };

/** What an operator asks: the version to go back to, until when, why, who. */
export interface RollbackRequest {
  version: number;
  /** Expiry, epoch ms; undefined: until released. */
  untilMs?: number;
  reason: string;
  actor: string;
}

/** Throws CP_ERR_ROLLBACK naming the field unless the request's reason, actor and expiry are valid at nowMs. */
export function validateRollbackRequest(r: RollbackRequest, nowMs: number): void {
  const fail = (msg: string): never => {
    throw new ControlPlaneError("CP_ERR_ROLLBACK", msg);
  };
  if (!Number.isSafeInteger(r.version) || r.version < 1) fail(`rollback.version: expected a decision version (a positive integer), got ${JSON.stringify(r.version)}`);
  if (r.untilMs !== undefined && (typeof r.untilMs !== "number" || !Number.isFinite(r.untilMs) || r.untilMs <= nowMs)) {
    fail("rollback.untilMs: expected a time in the future (epoch ms)");
  }
  if (typeof r.reason !== "string" || r.reason.trim() === "") fail("rollback.reason: expected a non-empty string");
  if (typeof r.actor !== "string" || r.actor.trim() === "") fail("rollback.actor: expected a non-empty string");
}

/**
 * The set to roll back to, or the error that says why there is none: CP_ERR_VERSION_UNKNOWN for
 * a version above the set in force or one the retained log should hold and does not;
 * CP_ERR_VERSION_NOT_RETAINED for one older than every set the log retains;
 * CP_ERR_ROLLBACK_CONFLICT for the version in force itself.
 */
export function rollbackTarget(version: number, current: DecisionSet, lookup: RollbackLookup): DecisionSet {
  if (version > current.version) {
    throw new ControlPlaneError("CP_ERR_VERSION_UNKNOWN", `decision version ${version} was never issued: the set in force is version ${current.version}`);
  }
  if (version === current.version) {
    throw new ControlPlaneError("CP_ERR_ROLLBACK_CONFLICT", `decision version ${version} is the set in force; a rollback republishes an earlier one`);
  }
  if (lookup.kind === "found") return lookup.set;
  if (lookup.oldest === undefined) {
    throw new ControlPlaneError("CP_ERR_VERSION_NOT_RETAINED", `decision version ${version}: the audit log retains no decision set`);
  }
  if (version < lookup.oldest) {
    throw new ControlPlaneError("CP_ERR_VERSION_NOT_RETAINED", `decision version ${version} is older than the oldest decision set the audit log retains (version ${lookup.oldest})`);
  }
  throw new ControlPlaneError(
    "CP_ERR_VERSION_UNKNOWN",
    `decision version ${version} was never issued: the audit log retains versions ${lookup.oldest} to ${lookup.newest ?? current.version} and none is ${version}`,
  );
}

/** The pin of `set` made at atMs by the request (shed fractions dropped). */
export function rollbackOf(set: DecisionSet, r: RollbackRequest, atMs: number): Rollback {
  const clusters = set.clusters.map(({ shedFraction: _shed, ...c }) => ({ ...c }));
  return { fromVersion: set.version, clusters, reason: r.reason, actor: r.actor, atMs, ...(r.untilMs === undefined ? {} : { untilMs: r.untilMs }) };
}

/** Throws CP_ERR_ROLLBACK_CONFLICT unless the pin names exactly the configured clusters. */
export function validateRollbackClusters(pin: Rollback, clusters: readonly string[]): void {
  const pinned = pin.clusters.map((c) => c.cluster);
  const same = pinned.length === clusters.length && clusters.every((name) => pinned.includes(name));
  if (!same) {
    throw new ControlPlaneError(
      "CP_ERR_ROLLBACK_CONFLICT",
      `decision version ${pin.fromVersion} decides for clusters ${pinned.join(", ") || "none"}; the configured clusters are ${clusters.join(", ")}`,
    );
  }
}

/** The pin's expiry has come (at untilMs itself included); one without untilMs never expires. */
export function rollbackExpired(pin: Rollback, nowMs: number): boolean {
  return pin.untilMs !== undefined && pin.untilMs <= nowMs;
}

/** What a pinned cluster's reason starts with. */
export function rollbackReason(pin: Rollback): string {
  return `rollback to version ${pin.fromVersion} by ${pin.actor}: ${pin.reason}`;
}

/**
 * The set `built` (the policy's set, with the halt and overrides in force, before the triggers'
 * actions) with the pin's cluster decisions in place of the policy's, except for the clusters in
 * `forced` (an override or a trigger decides them): those keep their built decision.
 */
export function applyRollback(built: DecisionSet, pin: Rollback, forced: ReadonlySet<string>): DecisionSet {
  const prefix = rollbackReason(pin);
  const clusters = built.clusters.map((c): ClusterDecision => {
    const pinned = pin.clusters.find((p) => p.cluster === c.cluster);
    if (pinned === undefined || forced.has(c.cluster)) return { ...c };
    return { ...pinned, reason: pinned.reason === "" ? prefix : `${prefix} (then: ${pinned.reason})` };
  });
  return { ...built, clusters };
}
