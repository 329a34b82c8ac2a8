// The verdict on a half-open breaker's probe window (breaker.ts takes it as BreakerInput.probe),
// on plain data. Probe traffic is small, below the scorers' minimum, so windows too thin to judge
// alone are pooled into ProbeEvidence until there are enough requests. Pure: the evidence so far
// comes in, the verdict and the evidence to keep go out.
import type { BreakerInput } from "./breaker.js";
import type { BreakerConfig, DetectorConfig } from "./config.js";
import type { ClusterWindowStats, ScoreResult } from "./types.js";
import { slowNotFailed } from "./planner/assessment.js";
import { pct } from "./reason-text.js";

/** Half-open probe evidence gathered over windows too thin to judge alone (request counts). */
export interface ProbeEvidence {
  requests: number;
  failures: number;
  /** Requests over the SLO latency. */
  slow: number;
  /** Of slow: over it and not timed out (planner/assessment.ts slowNotFailed), so that a bad
   *  request (failed or slow) counts once. */
  slowNotFailed: number;
  /** Streamed responses whose first token came (StreamStats.firstTokens: their answers may not
   *  have ended, so they need not be among `requests`), and those of them over slo.ttftMs. */
  streams: number;
  ttftSlow: number;
}

/** No evidence yet (a breaker just turned half-open, or the last verdict used it up). */
export function noProbeEvidence(): ProbeEvidence {
  return { requests: 0, failures: 0, slow: 0, slowNotFailed: 0, streams: 0, ttftSlow: 0 };
}

export interface ProbeVerdict {
  /** "none": not enough probe requests yet to judge. */
  probe: BreakerInput["probe"];
  /** Why the probe was unhealthy; for a healthy one, "" or why a failing probe passed (it served
   *  better than the alternative: againstAlternative). */
  reason: string;
}

export interface ProbeInput {
  /** The newest window of the half-open cluster. */
  window: ClusterWindowStats;
  /** The scorers' combined verdict on it without the model's (score-combination.ts): the model's
   *  inputs are pooled over recent windows, so right after an outage it still scores the outage
   *  and would fail probes that all succeeded ("model risk 0.99" over a window of calm requests). */
  combined: ScoreResult;
  /** Evidence pooled over earlier thin probe windows. */
  evidence: ProbeEvidence;
  /** The cluster's dynamic p50 baseline, ms (scorers/dynamic-baseline.ts: frozen while its windows
   *  are anomalous; NaN before any data). */
  baselineP50Ms: number;
  /** While the other clusters strain under this one's load: the fraction of their newest
   *  windows' requests that went bad (failed or over an objective), the alternative this cluster's
   *  traffic meets while it stays out. Undefined: they do not strain. */
  alternativeBadFraction?: number;
}

export interface ProbeConfig {
  detector: Pick<DetectorConfig, "minRequests" | "scoreThreshold" | "errorRateThreshold" | "minRelativeRise">;
  breaker: Pick<BreakerConfig, "minProbeRequests">;
  /** The SLO latency, ms. */
  sloLatencyMs: number;
  /** The streams' time-to-first-token objective, ms (absent: streams are judged as any request). */
  sloTtftMs?: number;
}

/**
 * Verdict on a half-open probe window. Unhealthy at once when a hard rule fired or the window has
 * enough requests for the scores and they are anomalous, unless the other clusters strain and
 * serve worse than the probe requests so far were served (againstAlternative, on at least
 * minProbeRequests of them). Otherwise the window joins the pooled evidence; with at least
 * minProbeRequests pooled it is judged directly: failures above the threshold (two at least), p50 well above the (frozen) baseline, or more than 1% of requests
 * over the SLO latency (two at least) make it unhealthy. A verdict other than "none" uses the
 * evidence up (the evidence returned is empty).
 *
 * Probes at least half of which are streamed responses (LLM output) are judged on their failures
 * and their time to first token when slo.ttftMs is set, not on their total latency nor on the
 * scores (which read it): a stream's total latency grows with the length of its answer, while its
 * TTFT says at its first chunk whether the cluster serves again (more than 1% of the streams over
 * the TTFT objective, two at least, make it unhealthy).
 */
export function judgeProbe(input: ProbeInput, config: ProbeConfig): { verdict: ProbeVerdict; evidence: ProbeEvidence } {
  const d = config.detector;
  const { window: w, combined } = input;
  // Streams are judged on their first token and their failures only: the scores read total
  // latency, which for a stream is the length of its answer.
  const streamProbe = judgedOnTtft(w.streams?.firstTokens ?? 0, w.requests, config);
  if (!streamProbe && (combined.hard || (w.requests >= d.minRequests && combined.score >= d.scoreThreshold))) {
    // Judged against the alternative as a pooled verdict is, on the probe requests so far (this
    // window and the thin ones pooled before it): a hard verdict says the cluster is bad, not that
    // the clusters carrying its share serve better.
    const verdict: ProbeVerdict = { probe: "unhealthy", reason: combined.reasons.join("; ") || "anomalous" };
    return { verdict: againstAlternative(verdict, pooled(input.evidence, w), w, input.alternativeBadFraction, config), evidence: noProbeEvidence() };
  }
  // Thin probe windows add up until there is enough evidence to judge.
  const acc = pooled(input.evidence, w);
  if (!enoughToJudge(acc, config)) return { verdict: { probe: "none", reason: "" }, evidence: acc };
  const verdict = judgePooled(acc, w, input.baselineP50Ms, config);
  return { verdict: againstAlternative(verdict, acc, w, input.alternativeBadFraction, config), evidence: noProbeEvidence() };
}

/** Whether the probe evidence holds enough requests to say how the cluster serves (minProbeRequests;
 *  a stream's first token is evidence before its answer ends, tens of seconds later for a long one). */
function enoughToJudge(acc: ProbeEvidence, config: ProbeConfig): boolean {
  return Math.max(acc.requests, acc.streams) >= Math.max(1, config.breaker.minProbeRequests);
}

/** The probe evidence so far with window `w` added. */
function pooled(evidence: ProbeEvidence, w: ClusterWindowStats): ProbeEvidence {
  return {
    requests: evidence.requests + w.requests,
    failures: evidence.failures + Math.round(w.errorRate * w.requests),
    slow: evidence.slow + (w.slowRequests ?? 0),
    slowNotFailed: evidence.slowNotFailed + slowNotFailed(w),
    streams: evidence.streams + (w.streams?.firstTokens ?? 0),
    ttftSlow: evidence.ttftSlow + (w.streams?.ttftSlow ?? 0),
  };
}

/**
 * A probe judged unhealthy (on pooled evidence, or by a hard verdict or anomalous scores on a
 * window, then judged on the probe requests so far: judgeProbe) is healthy enough when its bad
 * fraction is below what the alternative serves: while the others strain under this cluster's
 * load, every request kept out of it meets their bad fraction instead, so closing it is the
 * smaller harm (the idea behind Envoy's panic threshold, applied to a probe). A failing probe
 * stays unhealthy when it does no better than the alternative, when the evidence is too thin to
 * say how it serves (enoughToJudge), or when its newest window `w` does not count its slow
 * requests (a latency verdict would then pass on its failures alone).
 */
function againstAlternative(verdict: ProbeVerdict, acc: ProbeEvidence, w: ClusterWindowStats, alternative: number | undefined, config: ProbeConfig): ProbeVerdict {
  if (verdict.probe !== "unhealthy" || alternative === undefined || !(alternative > 0) || !enoughToJudge(acc, config)) return verdict;
  const onTtft = judgedOnTtft(acc.streams, acc.requests, config);
  if (!onTtft && w.slowRequests === undefined) return verdict;
  const judged = onTtft ? acc.streams : acc.requests;
  if (judged <= 0) return verdict;
  const bad = Math.min(judged, acc.failures + (onTtft ? acc.ttftSlow : acc.slowNotFailed)) / judged;
  if (!(bad < alternative)) return verdict;
  const reason = `${verdict.reason}, but ${pct(bad)} of ${judged} probe ${onTtft ? "streams" : "requests"} bad against ${pct(alternative)} on the others, which strain under its load`;
  return { probe: "healthy", reason };
}

/** The verdict on enough pooled probe evidence (`w`: the newest window, for its p50). */
function judgePooled(acc: ProbeEvidence, w: ClusterWindowStats, baseP50: number, config: ProbeConfig): ProbeVerdict {
  const d = config.detector;
  if (acc.requests > 0 && acc.failures / acc.requests > d.errorRateThreshold && acc.failures >= 2) {
    return { probe: "unhealthy", reason: `probe error rate ${((acc.failures / acc.requests) * 100).toFixed(0)}% (${acc.failures} of ${acc.requests})` };
  }
  if (judgedOnTtft(acc.streams, acc.requests, config)) return judgeTtft(acc, config.sloTtftMs!);
  if (w.requests >= config.breaker.minProbeRequests && Number.isFinite(baseP50) && w.p50Ms > baseP50 * d.minRelativeRise) {
    return { probe: "unhealthy", reason: `probe p50 ${Math.round(w.p50Ms)}ms vs baseline ${Math.round(baseP50)}ms` };
  }
  if (acc.slow >= 1 && acc.slow / acc.requests > 0.01 && acc.slow >= 2) {
    return { probe: "unhealthy", reason: `probe: ${Math.round(acc.slow)} of ${acc.requests} requests over slo ${config.sloLatencyMs}ms` };
  }
  return { probe: "healthy", reason: "" };
}

/** Probes at least half of which are streams are judged on TTFT, when it has an objective. */
function judgedOnTtft(streams: number, requests: number, config: ProbeConfig): boolean {
  return config.sloTtftMs !== undefined && streams > 0 && streams * 2 >= requests;
}

/** The verdict on pooled probes that are mostly streams: their time to first token. */
function judgeTtft(acc: ProbeEvidence, sloTtftMs: number): ProbeVerdict {
  if (acc.ttftSlow >= 2 && acc.ttftSlow / acc.streams > 0.01) {
    return { probe: "unhealthy", reason: `probe: ${Math.round(acc.ttftSlow)} of ${acc.streams} streams over ttft slo ${sloTtftMs}ms` };
  }
  return { probe: "healthy", reason: "" };
}
