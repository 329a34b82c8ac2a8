// The scoring step of a decision round: every scorer run on every cluster's history (runScorers),
// then per cluster, on plain data, their verdicts combined into one (max of scores, hard if any)
// and what the newest window adds to the cluster's record: its combined score, whether a robust
// signal backed it up (cluster-signals.ts), and its verdict for the N-of-M alarm filter
// (alarm-filter.ts). Everything but runScorers is pure; the decision engine (decision-engine.ts)
// stores the results.
import type { WindowVerdict } from "./alarm-filter.js";
import { robustSignal, type LoadEvidence } from "./cluster-signals.js";
import type { BreakerConfig, DetectorConfig } from "./config.js";
import { badRequests } from "./planner/assessment.js";
import type { ClusterWindowStats, PooledEvidence, Scorer, ScoreResult } from "./types.js";

/** One scorer's verdict on one cluster. */
export interface ScorerVerdict {
  /** The scorer's name (Scorer.name), the key of its verdict in the per-scorer record. */
  scorer: string;
  result: ScoreResult;
  /** The verdict of the model: its score is weighted by detector.modelWeight before combining. */
  fromModel: boolean;
}

/**
 * Runs every scorer once on every cluster's history (merged windows, oldest first) at the start of
 * the newest window of any cluster (0 when none), the scorers at once, each awaited. A failing
 * scorer (e.g. the model) must not stop decisions: its verdict is "no opinion". Returns each
 * cluster's verdicts in the order of `scorers`; the verdicts of `model` are marked fromModel.
 */
export async function runScorers(
  scorers: readonly Scorer[],
  model: Scorer | undefined,
  history: ReadonlyMap<string, readonly ClusterWindowStats[]>,
): Promise<Map<string, ScorerVerdict[]>> {
  const nowMs = Math.max(...[...history.values()].map((h) => h.at(-1)?.windowStartMs ?? 0));
  const results = await Promise.all(
    scorers.map(async (s) => {
      try {
        return { scorer: s, result: await s.score(history, nowMs) };
      } catch {
        return { scorer: s, result: new Map<string, ScoreResult>() };
      }
    }),
  );
  const verdicts = new Map<string, ScorerVerdict[]>();
  for (const cluster of history.keys()) {
    const of: ScorerVerdict[] = [];
    for (const { scorer, result } of results) {
      const r = result.get(cluster);
      if (r !== undefined) of.push({ scorer: scorer.name, result: r, fromModel: scorer === model });
    }
    verdicts.set(cluster, of);
  }
  return verdicts;
}

export interface CombinedScores {
  /** Score: the highest of the (clamped) scores, [0, 1]; hard if any verdict was; the reasons of
   *  the hard verdicts and of those at or above the score threshold. */
  combined: ScoreResult;
  /** Each scorer's verdict as it gave it, by scorer name. */
  perScorer: Record<string, ScoreResult>;
}

/** Combines the scorers' verdicts on one cluster, in the order given. */
export function combineScores(verdicts: readonly ScorerVerdict[], detector: Pick<DetectorConfig, "modelWeight" | "scoreThreshold">): CombinedScores {
  let score = 0;
  let hard = false;
  const reasons: string[] = [];
  const perScorer: Record<string, ScoreResult> = {};
  for (const { scorer, result: r, fromModel } of verdicts) {
    perScorer[scorer] = r;
    const s = Math.min(1, Math.max(0, fromModel ? r.score * detector.modelWeight : r.score));
    score = Math.max(score, Number.isFinite(s) ? s : 0);
    hard ||= r.hard;
    if (r.hard || s >= detector.scoreThreshold) reasons.push(...r.reasons);
  }
  return { combined: { score, hard, reasons }, perScorer };
}

/** A cluster's record as the scoring step reads it, after the round's windows were appended. */
export interface ScoredCluster extends LoadEvidence {
  /** This round's combined verdict and the per-scorer ones (combineScores). */
  combined: ScoreResult;
  perScorer: Readonly<Record<string, ScoreResult>>;
  /** Combined scores of the last M windows with evidence, oldest first. */
  recentScores: readonly number[];
  /** For each of the last M windows with evidence: did a robust signal back the scores up? */
  corroborations: readonly boolean[];
}

/** What the newest window adds to a cluster's record. */
export interface NewestWindowRecord {
  /** The recent scores with this round's score appended (at most M, oldest first). */
  recentScores: number[];
  /** The corroborations with the newest window's appended (at most M, oldest first). */
  corroborations: boolean[];
  /** The newest window's verdict for the alarm filter. */
  verdict: WindowVerdict;
}

/**
 * What the newest window adds to the record (undefined when the cluster has no window yet).
 * Soft scores judge the newest window, which needs minRequests by itself; the hard rules pool
 * thin windows and say what their verdict rests on (ScoreResult.evidence).
 */
export function recordNewestWindow(
  cluster: ScoredCluster,
  config: { detector: Pick<DetectorConfig, "minRequests" | "scoreThreshold" | "m" | "errorRateThreshold" | "minErrors" | "minRelativeRise">; breaker: Pick<BreakerConfig, "severeErrorRate"> },
): NewestWindowRecord | undefined {
  const d = config.detector;
  const latest = cluster.history.at(-1);
  if (latest === undefined) return undefined;
  const { score, hard } = cluster.combined;
  const windowEvidence = latest.requests >= Math.max(1, d.minRequests);
  const pooled = cluster.perScorer["hard_rules"]?.evidence;
  const hardEvidence = windowEvidence || (pooled !== undefined && pooled.requests >= Math.max(1, d.minRequests));
  const recentScores = [...cluster.recentScores];
  const corroborations = [...cluster.corroborations];
  // A thin window cannot raise the risk, but a calm one lowers it: otherwise a cluster whose
  // traffic was shifted away (too little to judge) would stay "at risk" for ever.
  if (windowEvidence || score < d.scoreThreshold) {
    recentScores.push(score);
    if (recentScores.length > d.m) recentScores.shift();
  }
  if (windowEvidence) {
    corroborations.push(robustSignal(cluster, d));
    if (corroborations.length > d.m) corroborations.shift();
  }
  const verdict: WindowVerdict = {
    windowStartMs: latest.windowStartMs,
    evidence: hardEvidence,
    anomalous: windowEvidence && score >= d.scoreThreshold,
    hard: hardEvidence && hard,
    severe: hardEvidence && hard && (
      severeFailures(latest, pooled, config.breaker.severeErrorRate)
      // As severe for clients: that share of the window's requests failed or slower than the
      // latency objective (a latency fault that makes most requests miss it), the planner's own
      // "bad" (planner/assessment.ts badRequests). Judged on the newest window with evidence.
      // Slow requests may come from load (the coordinator checks the others' room for it).
      || (windowEvidence && badRequests(latest) >= config.breaker.severeErrorRate * latest.requests)),
  };
  return { recentScores, corroborations, verdict };
}

/**
 * Whether a cluster's failures alone are severe: the hard rules' pooled failure rate when they
 * pooled thin windows, else the newest window's, at or above `severeErrorRate`.
 */
export function severeFailures(latest: ClusterWindowStats, pooled: PooledEvidence | undefined, severeErrorRate: number): boolean {
  return (pooled?.errorRate ?? latest.errorRate) >= severeErrorRate;
}
