// What the decision engine takes over from outside its own rounds, on its cluster records (pure
// but for mutating those records): persisted state after a restart, the last leader's
// assessment when a replica takes over, and the breaker states a follower mirrors from the set
// its leader published. decision-engine.ts (restore) and engine-replica.ts (beginTerm, mirror)
// call these.
import type { AlarmFilter } from "./alarm-filter.js";
import { resumeCluster, usableAssessment, type Assessment } from "./assessment.js";
import { restoreClusterRuntime, type ClusterRuntime } from "./cluster-runtime.js";
import type { CoreConfig } from "./config.js";
import type { OperatorControls } from "./overrides.js";
import type { DecisionSet } from "./types.js";

/** The clusters whose published decision is a rollback's (no override decides them). */
export function pinnedClusters(controls: Pick<OperatorControls, "rollback" | "get">): Set<string> {
  const pin = controls.rollback();
  return new Set(pin === undefined ? [] : pin.clusters.map((c) => c.cluster).filter((name) => controls.get(name) === undefined));
}

/**
 * Each cluster's breaker and risk as a persisted set says (cluster-runtime.ts
 * restoreClusterRuntime), except a cluster a rollback pins: the pinned set shows the earlier
 * set's decision, not its breaker, so that one starts afresh (closed) and a release hands it
 * back to the policy.
 */
export function restoreBreakers(
  runtime: ReadonlyMap<string, ClusterRuntime>,
  decisions: DecisionSet,
  pinned: ReadonlySet<string>,
  nowMs: number,
  config: Pick<CoreConfig, "detector">,
): void {
  for (const c of decisions.clusters) {
    const rt = runtime.get(c.cluster);
    if (rt !== undefined && !pinned.has(c.cluster)) restoreClusterRuntime(rt, c, nowMs, config);
  }
}

/**
 * A takeover: every cluster the last leader's assessment still describes (its breakers' times and
 * backoff, cooldowns, scores, recent windows; assessment.ts usableAssessment) continues from it,
 * if it is still in the state the published set says. A pinned cluster's breaker is the
 * assessment's (the published set shows the pin). Returns the clusters continued, and why the
 * others were not (each "cluster: reason", or the whole assessment's).
 */
export function resumeFromAssessment(
  runtime: ReadonlyMap<string, ClusterRuntime>,
  assessment: Assessment,
  published: DecisionSet | undefined,
  pinned: ReadonlySet<string>,
  alarms: AlarmFilter,
  nowMs: number,
  config: Pick<CoreConfig, "aggregation" | "detector">,
): { resumed: string[]; notResumed: string[] } {
  const unpinned = published === undefined ? undefined : { ...published, clusters: published.clusters.filter((c) => !pinned.has(c.cluster)) };
  const { usable, skipped } = usableAssessment(assessment, unpinned, nowMs);
  const resumed: string[] = [];
  for (const ca of usable) {
    const rt = runtime.get(ca.cluster);
    if (rt === undefined) continue;
    resumeCluster(rt, ca, alarms, config);
    resumed.push(ca.cluster);
  }
  return { resumed, notResumed: skipped };
}

/**
 * A follower mirrors the breaker states of the set its leader published, so that its status
 * views (admin API, dashboard, metrics) show them. A breaker whose kind is unchanged is left as
 * it is; another is restored as after a restart (cluster-runtime.ts restoreClusterRuntime).
 */
export function mirrorBreakers(runtime: ReadonlyMap<string, ClusterRuntime>, decisions: DecisionSet, nowMs: number, config: Pick<CoreConfig, "detector">): void {
  for (const c of decisions.clusters) {
    const rt = runtime.get(c.cluster);
    if (rt === undefined || rt.breaker.kind === c.state) continue;
    if (c.state === "closed") rt.breaker = { kind: "closed", since: nowMs, openings: rt.breaker.openings ?? 0 };
    else restoreClusterRuntime(rt, c, nowMs, config);
  }
}
