// The scenario format's LLM streams (sim/scenarios/README.md, "Streamed LLM answers"): a
// cluster's optional `llm` block, the SLO's `ttft_ms` / `tpot_ms`, and the fault fields that act
// on streams (`ttft_x`, `tpot_x`, `cut_rate`, `cut_as`). Parsing only; the model that plays them
// is sim/stream.ts.
import { Checker, checkP50P99, type Json, type P50P99 } from "./scenario-checker.js";

/**
 * Streamed answers of a cluster (OpenAI-compatible server-sent events). A streamed request gets
 * 200 and its headers at once, then its first token after TTFT and one more every TPOT.
 */
export interface ScenarioLlm {
  /** Share of the cluster's requests that ask for a streamed answer, [0, 1]. */
  stream_fraction: number;
  /** Time to first token at no load and no fault: log-normal fitted to these, milliseconds. */
  ttft_ms: P50P99;
  /** Time per output token after the first: log-normal, one draw per stream, milliseconds. */
  tpot_ms: P50P99;
  /** Output tokens of a full answer: log-normal rounded to a whole number >= 1. */
  output_tokens: P50P99;
  /** Tokens per SSE event after the first (vLLM's --stream-interval); whole number, default 1. */
  tokens_per_event: number;
  /** The last event carries `usage.completion_tokens` (stream_options.include_usage); default true. */
  usage: boolean;
}

/** How a cut stream ends: an SSE error event inside the 200 (vLLM, TGI) or a reset of the stream. */
export type CutAs = "error_event" | "reset";
export const CUT_AS: readonly CutAs[] = ["error_event", "reset"];

const LLM_FIELDS = ["stream_fraction", "ttft_ms", "tpot_ms", "output_tokens", "tokens_per_event", "usage"];
const LLM_REQUIRED = ["stream_fraction", "ttft_ms", "tpot_ms", "output_tokens"];
/** Fault fields that act on streams only, so need an llm block on the fault's cluster. */
export const STREAM_FAULT_FIELDS = ["ttft_x", "tpot_x", "cut_rate", "cut_as"] as const;
/** Most output tokens a p99 may ask for (a long answer; keeps a run's events bounded). */
export const MAX_OUTPUT_TOKENS = 100_000;

/** Validates a cluster's `llm` block and fills in its defaults. */
export function parseLlm(c: Checker, value: Json, path: string): ScenarioLlm | undefined {
  const o = c.object(value, path, LLM_FIELDS, LLM_REQUIRED);
  if (o === undefined) return undefined;
  const before = c.problems.length;
  const fraction = "stream_fraction" in o ? c.number(o.stream_fraction, `${path}.stream_fraction`, { min: 0, max: 1 }) : undefined;
  const ttft = "ttft_ms" in o ? checkP50P99(c, o.ttft_ms, `${path}.ttft_ms`) : undefined;
  const tpot = "tpot_ms" in o ? checkP50P99(c, o.tpot_ms, `${path}.tpot_ms`) : undefined;
  const tokens = "output_tokens" in o ? checkP50P99(c, o.output_tokens, `${path}.output_tokens`, MAX_OUTPUT_TOKENS) : undefined;
  if (tokens !== undefined && tokens.p50 < 1) c.problem(`${path}.output_tokens.p50`, `must be >= 1 (a token), got ${tokens.p50}`);
  const perEvent = "tokens_per_event" in o
    ? c.number(o.tokens_per_event, `${path}.tokens_per_event`, { integer: true, min: 1, max: 1000 })
    : 1;
  const usage = "usage" in o ? c.boolean(o.usage, `${path}.usage`) : true;
  if (
    c.problems.length > before || fraction === undefined || ttft === undefined || tpot === undefined ||
    tokens === undefined || perEvent === undefined || usage === undefined
  ) {
    return undefined;
  }
  return { stream_fraction: fraction, ttft_ms: ttft, tpot_ms: tpot, output_tokens: tokens, tokens_per_event: perEvent, usage };
}

/** The fault fields on streams, as parsed (each present only when the file sets it). */
export interface StreamFaultFields {
  ttft_x?: number;
  tpot_x?: number;
  cut_rate?: number;
  cut_as?: CutAs;
}

/**
 * Validates a fault's stream fields. `hasLlm` is whether the fault's cluster has an llm block
 * (undefined when the cluster itself is not valid: no problem is reported then).
 */
export function parseStreamFault(c: Checker, o: Record<string, Json>, path: string, clusterName: string | undefined, hasLlm: boolean | undefined): StreamFaultFields | undefined {
  const before = c.problems.length;
  const out: StreamFaultFields = {};
  if ("ttft_x" in o) {
    const v = c.number(o.ttft_x, `${path}.ttft_x`, { min: 0, minExclusive: true, max: 10_000 });
    if (v !== undefined) out.ttft_x = v;
  }
  if ("tpot_x" in o) {
    const v = c.number(o.tpot_x, `${path}.tpot_x`, { min: 0, minExclusive: true, max: 10_000 });
    if (v !== undefined) out.tpot_x = v;
  }
  if ("cut_rate" in o) {
    const v = c.number(o.cut_rate, `${path}.cut_rate`, { min: 0, max: 1 });
    if (v !== undefined) out.cut_rate = v;
  }
  if ("cut_as" in o) {
    if (typeof o.cut_as !== "string" || !(CUT_AS as readonly string[]).includes(o.cut_as)) {
      c.problem(`${path}.cut_as`, `must be one of ${CUT_AS.map((v) => JSON.stringify(v)).join(", ")}, got ${JSON.stringify(o.cut_as)}`);
    } else if (!("cut_rate" in o)) {
      c.problem(`${path}.cut_as`, "needs cut_rate: it says how the cut streams end");
    } else out.cut_as = o.cut_as as CutAs;
  }
  if (hasLlm === false) {
    for (const field of STREAM_FAULT_FIELDS) {
      if (field in o) {
        c.problem(`${path}.${field}`, `acts on streams, but cluster ${JSON.stringify(clusterName)} has no llm block`);
      }
    }
  }
  return c.problems.length > before ? undefined : out;
}

/** The SLO's objectives on streams: p99 TTFT and p99 TPOT per window, milliseconds. */
export interface StreamSlo {
  ttft_ms?: number;
  tpot_ms?: number;
}

/** Validates slo.ttft_ms and slo.tpot_ms; `anyLlm`: some cluster has an llm block. */
export function parseStreamSlo(c: Checker, o: Record<string, Json>, anyLlm: boolean): StreamSlo | undefined {
  const before = c.problems.length;
  const out: StreamSlo = {};
  for (const field of ["ttft_ms", "tpot_ms"] as const) {
    if (!(field in o)) continue;
    const v = c.number(o[field], `slo.${field}`, { min: 0, minExclusive: true });
    if (v === undefined) continue;
    if (!anyLlm) c.problem(`slo.${field}`, "judges streams, but no cluster has an llm block");
    else out[field] = v;
  }
  return c.problems.length > before ? undefined : out;
}
