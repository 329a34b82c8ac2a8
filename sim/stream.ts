// The simulated upstream's streamed LLM answers: when each SSE event of a stream leaves the host,
// how many tokens it carries, and where a cut stream stops. Pure: the caller passes the request's
// own uniform draws, so every policy meets the same streams (common random numbers).
//
// Model (sim/scenarios/README.md, "Streamed LLM answers"): the host sends 200 and its headers at
// once (vLLM and TGI answer before any token exists: ../notes S5, S7); the first event, one
// token, follows after TTFT; event j >= 1 follows at TTFT + min(j·k, n − 1)·TPOT carrying the
// tokens generated since (k = tokens_per_event, n = output tokens), so the last token leaves at
// TTFT + (n − 1)·TPOT, followed at once by the final event (usage, when the cluster sends it)
// and `data: [DONE]`.
//   TTFT = lognormal(llm.ttft_ms) × latency_x × ttft_x × queueing multiplier of the host's load
//   TPOT = lognormal(llm.tpot_ms) × latency_x × tpot_x, one draw per stream
//   n    = max(1, round(lognormal(llm.output_tokens)))
// A cut stream (chance cut_rate) stops before event c, c uniform over 0 … E − 1 (E events in
// all): at event c's time it ends with an SSE error event inside the 200, or with a reset.
import type { CutAs, ScenarioLlm } from "./scenario.js";
import { fitLogNormal, normalQuantile } from "./random.js";
import type { HostEffect } from "./faults.js";

/** The request's own uniform draws in [0, 1) for a stream, made at arrival. */
export interface StreamDraws {
  /** Below the cluster's stream_fraction: the request asks for a streamed answer. */
  stream: number;
  ttft: number;
  tpot: number;
  tokens: number;
  /** Below the fault's cut_rate: the stream is cut. */
  cut: number;
  /** Where the cut falls among the stream's events. */
  cutPoint: number;
}

/** How one stream plays out. Times in milliseconds from the request's arrival. */
export interface StreamPlan {
  ttftMs: number;
  tpotMs: number;
  /** Output tokens of the full answer (>= 1). */
  tokens: number;
  tokensPerEvent: number;
  /** Token events of the full answer: 1 + ceil((tokens − 1) / tokensPerEvent). */
  events: number;
  /** Events delivered before the cut (0 … events − 1); null when the stream is not cut. */
  cutBefore: number | null;
  cutAs: CutAs;
  /** The final event carries usage.completion_tokens. */
  usage: boolean;
}

/** Log-normal draws of one cluster's streams. */
export class StreamModel {
  private readonly ttft: { mu: number; sigma: number };
  private readonly tpot: { mu: number; sigma: number };
  private readonly tokens: { mu: number; sigma: number };

  constructor(readonly llm: ScenarioLlm) {
    this.ttft = fitLogNormal(llm.ttft_ms.p50, llm.ttft_ms.p99);
    this.tpot = fitLogNormal(llm.tpot_ms.p50, llm.tpot_ms.p99);
    this.tokens = fitLogNormal(llm.output_tokens.p50, llm.output_tokens.p99);
  }

  /** True when the request asks for a streamed answer. */
  streams(draws: Readonly<StreamDraws>): boolean {
    return draws.stream < this.llm.stream_fraction;
  }

  /**
   * The plan of a stream under a fault effect, with the host's queueing multiplier (from its
   * utilisation, sim/upstream.ts) on TTFT.
   */
  plan(draws: Readonly<StreamDraws>, effect: Readonly<HostEffect>, queueing: number): StreamPlan {
    const ttftMs = Math.exp(this.ttft.mu + this.ttft.sigma * normalQuantile(draws.ttft)) * effect.latencyX * effect.ttftX * queueing;
    const tpotMs = Math.exp(this.tpot.mu + this.tpot.sigma * normalQuantile(draws.tpot)) * effect.latencyX * effect.tpotX;
    const tokens = Math.max(1, Math.round(Math.exp(this.tokens.mu + this.tokens.sigma * normalQuantile(draws.tokens))));
    const perEvent = this.llm.tokens_per_event;
    const events = 1 + Math.ceil((tokens - 1) / perEvent);
    const cut = effect.cutRate > 0 && draws.cut < effect.cutRate;
    return {
      ttftMs, tpotMs, tokens, tokensPerEvent: perEvent, events,
      cutBefore: cut ? Math.min(events - 1, Math.floor(draws.cutPoint * events)) : null,
      cutAs: effect.cutAs,
      usage: this.llm.usage,
    };
  }
}

/** Time of event j (0-based) after arrival, milliseconds. */
export function eventTimeMs(plan: Readonly<StreamPlan>, j: number): number {
  return plan.ttftMs + Math.min(j * plan.tokensPerEvent, plan.tokens - 1) * plan.tpotMs;
}

/** Tokens delivered once events 0 … j have arrived. */
export function tokensThrough(plan: Readonly<StreamPlan>, j: number): number {
  return Math.min(j * plan.tokensPerEvent, plan.tokens - 1) + 1;
}

/** Tokens carried by event j alone. */
export function tokensIn(plan: Readonly<StreamPlan>, j: number): number {
  return j === 0 ? 1 : tokensThrough(plan, j) - tokensThrough(plan, j - 1);
}

/** Events the client receives: all of them, or those before the cut. */
export function deliveredEvents(plan: Readonly<StreamPlan>): number {
  return plan.cutBefore ?? plan.events;
}

/** When the stream ends (its last token and final event, or its cut), milliseconds after arrival. */
export function streamEndMs(plan: Readonly<StreamPlan>): number {
  return plan.cutBefore === null ? eventTimeMs(plan, plan.events - 1) : eventTimeMs(plan, plan.cutBefore);
}

/** What the client measured on a stream (the report's ground truth). */
export interface StreamTruth {
  /** Time to the first token, ms; null when none arrived. */
  ttftMs: number | null;
  /** (last token − first token) / (tokens − 1), ms; null with fewer than two tokens. */
  tpotMs: number | null;
  /** Tokens the client received. */
  tokens: number;
  /** The stream did not reach its end. */
  cut: boolean;
}

/** The client's measurements of a stream that started (no client timeout before its first token). */
export function streamTruth(plan: Readonly<StreamPlan>): StreamTruth {
  const delivered = deliveredEvents(plan);
  if (delivered === 0) return { ttftMs: null, tpotMs: null, tokens: 0, cut: true };
  const tokens = tokensThrough(plan, delivered - 1);
  const tpotMs = tokens >= 2 ? (eventTimeMs(plan, delivered - 1) - plan.ttftMs) / (tokens - 1) : null;
  return { ttftMs: plan.ttftMs, tpotMs, tokens, cut: plan.cutBefore !== null };
}
