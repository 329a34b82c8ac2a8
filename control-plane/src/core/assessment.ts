// The leader's compact assessment: what a new leader needs to continue deciding where the last
// one left off instead of starting blind (docs/design/replicas.md). Per cluster:
//   - the breaker with its times (an open breaker's `until`, the openings that set the next
//     open period's backoff; a half-open one's probe progress): restored from the published set
//     alone, an open breaker would wait its retry-after again and count one opening;
//   - the alarm filter's last M verdicts and when the breaker last closed (the cooldown during
//     which soft evidence cannot trip it again);
//   - the recent combined scores and their corroborations, the planner's last move;
//   - the newest merged windows (at most ASSESSMENT_WINDOWS), replayed into the new leader's
//     history and capacity estimator (its baseline, safe load, usual bad fraction), with the log
//     of the shares they were gathered at (planner/gathered-share.ts).
// Written by the leader to the shared store (replicas/etcd-state.ts) when a breaker moves and
// every few seconds; a few KB. Pure data and checks, no I/O.
import type { AlarmFilter, WindowVerdict } from "./alarm-filter.js";
import { appendWindow, type ClusterRuntime } from "./cluster-runtime.js";
import type { CoreConfig } from "./config.js";
import type { ShareChange } from "./planner/gathered-share.js";
import type { LastMove } from "./planner/round-plan.js";
import type { BreakerState, ClusterWindowStats, DecisionSet } from "./types.js";

/** Merged windows kept per cluster (the planner's usual bad fraction looks at the last 10). */
export const ASSESSMENT_WINDOWS = 10;
/** How often a leader saves its assessment while no breaker moves, ms (at once when one does). */
export const ASSESSMENT_EVERY_MS = 5000;
/** An assessment older than this is not used (its windows and cooldowns describe another time), ms. */
export const ASSESSMENT_MAX_AGE_MS = 10 * 60_000;

export interface ClusterAssessment {
  cluster: string;
  breaker: BreakerState;
  /** The alarm filter's last M verdicts, oldest first. */
  verdicts: WindowVerdict[];
  /** When the breaker last closed (the cooldown's start), epoch ms. */
  closedAtMs?: number;
  /** Combined scores of the last M windows with evidence, and whether a robust signal backed each. */
  recentScores: number[];
  corroborations: boolean[];
  lastMove: LastMove;
  /** The newest merged windows, oldest first. */
  windows: ClusterWindowStats[];
  /** The shares in force while they were gathered (absent in an assessment of an older build). */
  shareLog?: ShareChange[];
}

export interface Assessment {
  /** When it was taken, epoch ms (the leader's clock). */
  atMs: number;
  /** The decision version in force then. */
  version: number;
  clusters: ClusterAssessment[];
}

type Check = { ok: true; assessment: Assessment } | { ok: false; error: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** Window fields that are numbers; null (JSON's NaN) reads back as NaN. */
const WINDOW_NUMBERS = ["windowStartMs", "windowLengthMs", "requests", "errors5xx", "localRejects", "timeouts", "resets", "grpcErrors", "errorRate", "p50Ms", "p95Ms", "p99Ms", "rps", "reporters"] as const;
const WINDOW_OPTIONAL = ["missingReporters", "lateReports", "slowRequests", "shed"] as const;

/** The assessment as stored: JSON (NaN quantiles of empty windows and the Infinity end of a
 *  breaker held open become null; parseAssessment reads them back). */
export function encodeAssessment(a: Assessment): string {
  return JSON.stringify(a);
}

/**
 * Reads a stored assessment, checking its shape: every problem makes it unusable (a new leader then
 * starts from the published set alone, as before), named by its path.
 */
export function parseAssessment(text: string): Check {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` };
  }
  if (!isObject(raw)) return { ok: false, error: "expected an object" };
  if (!isNumber(raw.atMs) || !isNumber(raw.version)) return { ok: false, error: "atMs and version: expected numbers" };
  if (!Array.isArray(raw.clusters)) return { ok: false, error: "clusters: expected a list" };
  const clusters: ClusterAssessment[] = [];
  for (const [i, c] of raw.clusters.entries()) {
    const problem = clusterProblem(c);
    if (problem !== undefined) return { ok: false, error: `clusters[${i}]${problem}` };
    const ca = c as ClusterAssessment;
    const breaker = ca.breaker.kind === "open" && (ca.breaker.until as number | null) === null ? { ...ca.breaker, until: Number.POSITIVE_INFINITY } : ca.breaker;
    clusters.push({ ...ca, breaker, windows: ca.windows.map((w) => withNaN(w)) });
  }
  return { ok: true, assessment: { atMs: raw.atMs, version: raw.version, clusters } };
}

function clusterProblem(c: unknown): string | undefined {
  if (!isObject(c)) return ": expected an object";
  if (typeof c.cluster !== "string" || c.cluster === "") return ".cluster: expected a name";
  const breaker = breakerProblem(c.breaker);
  if (breaker !== undefined) return `.breaker${breaker}`;
  if (!Array.isArray(c.verdicts) || !c.verdicts.every((v) => isObject(v) && isNumber(v.windowStartMs) && ["evidence", "anomalous", "hard", "severe"].every((k) => typeof v[k] === "boolean"))) {
    return ".verdicts: expected a list of {windowStartMs, evidence, anomalous, hard, severe}";
  }
  if (c.closedAtMs !== undefined && !isNumber(c.closedAtMs)) return ".closedAtMs: expected a number";
  if (!Array.isArray(c.recentScores) || !c.recentScores.every((v) => isNumber(v) && v >= 0 && v <= 1)) return ".recentScores: expected numbers in [0, 1]";
  if (!Array.isArray(c.corroborations) || !c.corroborations.every((v) => typeof v === "boolean")) return ".corroborations: expected booleans";
  const move = c.lastMove;
  if (!isObject(move) || ![-1, 0, 1].includes(move.direction as number) || !isNumber(move.roundsAgo)) return ".lastMove: expected {direction: -1 | 0 | 1, roundsAgo}";
  if (c.shareLog !== undefined && !(Array.isArray(c.shareLog) && c.shareLog.every((e) => isObject(e) && isNumber(e.atMs) && isNumber(e.share) && e.share >= 0 && e.share <= 1))) {
    return ".shareLog: expected a list of {atMs, share in [0, 1]}";
  }
  if (!Array.isArray(c.windows)) return ".windows: expected a list";
  for (const [j, w] of c.windows.entries()) {
    if (!isObject(w) || w.cluster !== c.cluster) return `.windows[${j}]: expected a window of ${c.cluster}`;
    for (const key of WINDOW_NUMBERS) if (!(isNumber(w[key]) || w[key] === null)) return `.windows[${j}].${key}: expected a number`;
    for (const key of WINDOW_OPTIONAL) if (w[key] !== undefined && !isNumber(w[key])) return `.windows[${j}].${key}: expected a number`;
  }
  return undefined;
}

function breakerProblem(b: unknown): string | undefined {
  if (!isObject(b) || !isNumber(b.since)) return ": expected {kind, since, ...}";
  switch (b.kind) {
    case "closed":
      return b.openings === undefined || isNumber(b.openings) ? undefined : ".openings: expected a number";
    case "open":
      // until null: Infinity (held open by an override without expiry or a trigger) as JSON writes it.
      return (isNumber(b.until) || b.until === null) && typeof b.reason === "string" && isNumber(b.openings) ? undefined : ": an open breaker needs until, reason and openings";
    case "half_open":
      return isNumber(b.probeFraction) && isNumber(b.healthyWindows) && isNumber(b.openings) ? undefined : ": a half-open breaker needs probeFraction, healthyWindows and openings";
    default:
      return `.kind: expected closed, open or half_open, got ${JSON.stringify(b.kind)}`;
  }
}

function withNaN(w: ClusterWindowStats): ClusterWindowStats {
  const out = { ...w } as unknown as Record<string, unknown>;
  for (const key of WINDOW_NUMBERS) if (out[key] === null) out[key] = Number.NaN;
  return out as unknown as ClusterWindowStats;
}

/** A cluster's assessment from its runtime record and the alarm filter. */
export function takeClusterAssessment(rt: ClusterRuntime, alarms: AlarmFilter): ClusterAssessment {
  const alarm = alarms.snapshot(rt.spec.name);
  return {
    cluster: rt.spec.name,
    breaker: { ...rt.breaker },
    verdicts: alarm.verdicts,
    ...(alarm.closedAtMs === undefined ? {} : { closedAtMs: alarm.closedAtMs }),
    recentScores: [...rt.recentScores],
    corroborations: [...rt.corroborations],
    lastMove: { ...rt.lastMove },
    // Without the upstream load reports (ORCA): the estimators learn from the rest.
    windows: rt.history.slice(-ASSESSMENT_WINDOWS).map(({ upstreamLoad: _load, ...w }) => w),
    shareLog: rt.shareLog.map((e) => ({ ...e })),
  };
}

/**
 * Which clusters of `assessment` a new leader continues at `nowMs`, given the set in force
 * (`inForce`, the last published): none when the assessment is too old; else each cluster whose
 * breaker is in the state the set publishes (an assessment taken before the set's last change is
 * not trusted for a cluster that changed since). Returns the usable ones and why others are not.
 */
export function usableAssessment(assessment: Assessment, inForce: DecisionSet | undefined, nowMs: number): { usable: ClusterAssessment[]; skipped: string[] } {
  if (nowMs - assessment.atMs > ASSESSMENT_MAX_AGE_MS) {
    return { usable: [], skipped: [`taken ${Math.round((nowMs - assessment.atMs) / 1000)} s ago (more than ${ASSESSMENT_MAX_AGE_MS / 1000} s)`] };
  }
  const usable: ClusterAssessment[] = [];
  const skipped: string[] = [];
  for (const ca of assessment.clusters) {
    const published = inForce?.clusters.find((c) => c.cluster === ca.cluster)?.state;
    if (published !== undefined && published !== ca.breaker.kind) skipped.push(`${ca.cluster}: its breaker was ${ca.breaker.kind}, the published set says ${published}`);
    else usable.push(ca);
  }
  return { usable, skipped };
}

/** Continues a cluster's record from its assessment: breaker, alarm filter, scores, planner's
 *  last move, and the windows replayed into the history and the capacity estimator. */
export function resumeCluster(rt: ClusterRuntime, ca: ClusterAssessment, alarms: AlarmFilter, config: Pick<CoreConfig, "aggregation" | "detector">): void {
  rt.breaker = { ...ca.breaker };
  alarms.restore(rt.spec.name, { verdicts: ca.verdicts, ...(ca.closedAtMs === undefined ? {} : { closedAtMs: ca.closedAtMs }) });
  rt.recentScores = [...ca.recentScores];
  rt.corroborations = [...ca.corroborations];
  rt.lastMove = { ...ca.lastMove };
  rt.history = [];
  for (const w of ca.windows) appendWindow(rt, w, config);
  rt.shareLog = (ca.shareLog ?? []).map((e) => ({ ...e }));
}
