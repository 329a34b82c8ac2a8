// A streamed cluster's time to first token against its offered load, from its own windows (pure):
// whether its TTFT objective is breached *because of its load* (a prefill queue, which less load
// drains) or at every load (a fault, which moving load does not cure), and the fraction of its
// streams predicted over the objective because of load at another load. The planner (planner.ts)
// adds that fraction to a cluster's predicted bad requests, so that a donor breached by its load
// is predicted fewer slow streams at a lower load and a receiver is predicted by its own TTFT at
// its new load (one at or past its knee gains nothing). Slow streams at every load (a fault)
// count for neither: on the streamed tuning batch counting them moved a prefill fault's traffic
// onto a cluster at 75 % load that a latency creep then overloaded.
//
// Why not simply count slow streams as bad (assessment.ts badRequests)? A load wave without a
// fault pushes every cluster's TTFT up at its peak; judged one by one, each looks better at a
// lower load, the receivers are not predicted to get worse, and the move overloads them (two
// attempts did harm on the generator's streamed scenarios). Here a receiver's slow fraction rises
// with the load it is given (the rise its own windows showed, and every stream beyond its knee),
// and when every streamed cluster breaches together nothing moves on TTFT (round-plan.ts).
//
// Evidence: the windows' first tokens (a TTFT sample each, StreamStats.ttft) and those over
// slo.ttftMs (StreamStats.ttftSlow); only the excess over the 1 % a p99 objective allows counts.
import type { ClusterWindowStats } from "../types.js";
import { significantlyAbove } from "../scorers/significance.js";
import { EVIDENCE_DECAY, EVIDENCE_WINDOWS, offeredRps } from "./assessment.js";

/** Windows searched for how the slow fraction varies with load (the newest last). */
export const TTFT_LOAD_WINDOWS = 20;
/** Fraction of streams a p99 objective allows over it. */
export const TTFT_ALLOWED_FRACTION = 0.01;

/** What the judgement needs besides the windows. */
export interface TtftJudgeConfig {
  /** Standard errors a breach and a rise must clear (detector.significanceZ). */
  z: number;
  /** First tokens needed in the pooled windows before anything is judged (detector.minStreams). */
  minStreams: number;
}

/** A cluster's TTFT against load, on its windows. */
export interface TtftLoad {
  /** Offered load the evidence was pooled at, rps (decayed as assessment.ts pools it). */
  loadRps: number;
  /** Pooled (decayed) first tokens and, of them, over the objective. */
  firstTokens: number;
  slow: number;
  /** Excess of the pooled slow fraction over TTFT_ALLOWED_FRACTION, [0, 1]. */
  excessFraction: number;
  /** Significantly more than the allowed 1 % of its first tokens are over the objective. */
  breach: boolean;
  /** Rise of the slow fraction per rps of load, >= 0: 0 unless its busier windows were
   *  significantly slower than its quieter ones at a significantly higher load. */
  slopePerRps: number;
  /** Excess slow fraction of its quieter windows: less load does not predict fewer than this. */
  quietFraction: number;
  /** "load": breached and rising with load (queueing); "fault": breached at every load it carried;
   *  "none": not breached. */
  kind: "none" | "load" | "fault";
}

/**
 * The judgement of a cluster's windows (oldest first); undefined when they hold fewer than
 * `minStreams` first tokens (not enough evidence, or no streams: nothing changes for a cluster
 * that does not stream).
 */
export function judgeTtftLoad(history: readonly ClusterWindowStats[], config: TtftJudgeConfig): TtftLoad | undefined {
  let firstTokens = 0;
  let slow = 0;
  let rawTokens = 0;
  let rawSlow = 0;
  let load = 0;
  let weights = 0;
  let weight = 1;
  for (let i = history.length - 1, seen = 0; i >= 0 && seen < EVIDENCE_WINDOWS; i--, seen++) {
    const w = history[i]!;
    const s = w.streams;
    if (s !== undefined) {
      firstTokens += weight * s.firstTokens;
      slow += weight * Math.min(s.firstTokens, s.ttftSlow);
      rawTokens += s.firstTokens;
      rawSlow += Math.min(s.firstTokens, s.ttftSlow);
    }
    load += weight * offeredRps(w);
    weights += weight;
    weight *= EVIDENCE_DECAY;
  }
  if (rawTokens < Math.max(1, config.minStreams) || firstTokens <= 0) return undefined;
  const fraction = slow / firstTokens;
  const excessFraction = Math.max(0, fraction - TTFT_ALLOWED_FRACTION);
  const breach = significantlyAbove(rawSlow, rawTokens, TTFT_ALLOWED_FRACTION, config.z);
  const rise = riseWithLoad(history, config);
  const slopePerRps = rise?.slopePerRps ?? 0;
  const kind = !breach ? "none" : slopePerRps > 0 ? "load" : "fault";
  return {
    loadRps: weights > 0 ? load / weights : 0,
    firstTokens,
    slow,
    excessFraction,
    breach,
    slopePerRps,
    quietFraction: rise === undefined ? excessFraction : Math.min(excessFraction, rise.quietFraction),
    kind,
  };
}

/**
 * Predicted fraction of streams over the TTFT objective *because of load* at `loadRps`, [0, 1]:
 * the excess the cluster shows now above its quieter windows' level, moved along the rise its
 * windows showed (0 for a breach at every load: a fault is not cured by moving load, and slow
 * streams from a fault move no traffic, as before), and above the load it carries now every
 * stream beyond its knee (`kneeRps`, capacity.ts, learnt from its TTFT) counted slow: a receiver
 * at its knee gains nothing.
 */
export function predictTtftSlowFraction(t: TtftLoad, loadRps: number, kneeRps = Infinity): number {
  const now = clamp01(t.excessFraction);
  const quiet = Math.min(now, clamp01(t.quietFraction));
  let f = clamp01(Math.max(quiet, now + t.slopePerRps * (loadRps - t.loadRps))) - quiet;
  const from = Math.max(t.loadRps, Number.isFinite(kneeRps) ? kneeRps : Infinity);
  if (loadRps > from && loadRps > 0) f += (1 - quiet - f) * ((loadRps - from) / loadRps);
  return clamp01(f);
}

/** Standard error of the pooled slow fraction (Jeffreys-like, as load-response.ts badFractionError). */
export function ttftFractionError(t: TtftLoad): number {
  const n = Math.max(0, t.firstTokens) + 1;
  const p = (Math.max(0, t.slow) + 0.5) / n;
  return Math.sqrt((p * (1 - p)) / n);
}

/**
 * Whether the slow fraction rises with load across the last TTFT_LOAD_WINDOWS windows with first
 * tokens: split at the median load (by first tokens), the busier half's slow fraction must exceed
 * the quieter half's by z standard errors, and its mean load the quieter half's by z standard
 * errors of a Poisson count (a difference of loads that chance alone makes is no evidence).
 * The slope is the rise between the two halves; undefined when there is no such rise.
 */
function riseWithLoad(history: readonly ClusterWindowStats[], config: TtftJudgeConfig): { slopePerRps: number; quietFraction: number } | undefined {
  const points: { load: number; n: number; slow: number; seconds: number }[] = [];
  for (let i = Math.max(0, history.length - TTFT_LOAD_WINDOWS); i < history.length; i++) {
    const w = history[i]!;
    const s = w.streams;
    if (s === undefined || s.firstTokens <= 0) continue;
    points.push({ load: offeredRps(w), n: s.firstTokens, slow: Math.min(s.firstTokens, s.ttftSlow), seconds: Math.max(1e-3, w.windowLengthMs / 1000) });
  }
  if (points.length < 4) return undefined;
  points.sort((a, b) => a.load - b.load);
  const total = points.reduce((a, p) => a + p.n, 0);
  const quiet = { n: 0, slow: 0, load: 0, windows: 0, seconds: 0 };
  const busy = { n: 0, slow: 0, load: 0, windows: 0, seconds: 0 };
  let seen = 0;
  for (const p of points) {
    const half = seen + p.n / 2 <= total / 2 ? quiet : busy;
    seen += p.n;
    half.n += p.n;
    half.slow += p.slow;
    half.load += p.load;
    half.windows += 1;
    half.seconds += p.seconds;
  }
  if (quiet.windows === 0 || busy.windows === 0 || quiet.n <= 0 || busy.n <= 0) return undefined;
  const fq = quiet.slow / quiet.n;
  const fb = busy.slow / busy.n;
  const pooled = (quiet.slow + busy.slow) / (quiet.n + busy.n);
  const fractionError = Math.sqrt(Math.max(pooled * (1 - pooled), 0.25 / (quiet.n + busy.n)) * (1 / quiet.n + 1 / busy.n));
  const lq = quiet.load / quiet.windows;
  const lb = busy.load / busy.windows;
  // A window's offered load is a Poisson count over its length: its mean over k windows of s
  // seconds in all has a variance of load / s.
  const loadError = Math.sqrt(lq / quiet.seconds + lb / busy.seconds);
  if (!(fb - fq > config.z * fractionError) || !(lb - lq > config.z * loadError)) return undefined;
  return { slopePerRps: (fb - fq) / (lb - lq), quietFraction: Math.max(0, fq - TTFT_ALLOWED_FRACTION) };
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
