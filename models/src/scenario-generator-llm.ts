// Streamed LLM answers for generated scenarios (the format's llm block, stream objectives and
// stream faults: sim/scenarios/README.md). models/src/scenario-generator.ts calls this on a
// scenario's JSON when `llmShare` asks for it; its draws come from a generator of their own,
// seeded from the scenario's simulator seed, so the scenario's other fields, and every scenario
// generated without LLM, stay exactly what they were.
//
// Ranges (LLM_RANGES), from what OpenAI-compatible servers (vLLM, TGI, SGLang) report, none taken
// from a public scenario: TTFT p50 80–800 ms with p99 2–6 × p50; TPOT p50 10–60 ms with p99
// 1.5–4 × p50; answers of 50–400 tokens at the median with p99 2–6 × that; half to all requests
// streamed; tokens per event so a median answer has about 12 events (vLLM's --stream-interval;
// bounds the replay cost); usage in the last event 80 % of the time. Objectives: TTFT and TPOT
// p99 at 1.2–3 × the slowest cluster's; the latency objective covers a slow stream's end (TTFT
// p99 + p99 tokens × TPOT p99) and the client's timeout, which for streams applies to the first
// token, at least twice the TTFT objective. Faults: 0–2 on streams, of the kinds STREAM_FAULT_KINDS.
import { createRng, type Rng } from "./prng.js";

export const LLM_RANGES = {
  streamFraction: [0.5, 1],
  ttftP50Ms: [80, 800],
  ttftP99OverP50: [2, 6],
  tpotP50Ms: [10, 60],
  tpotP99OverP50: [1.5, 4],
  outputTokensP50: [50, 400],
  outputTokensP99OverP50: [2, 6],
  /** Events a median answer has, about (tokens_per_event = ceil(p50 tokens / this)). */
  eventsPerMedianAnswer: 12,
  /** slo.ttft_ms and slo.tpot_ms over the slowest cluster's p99. */
  sloOverSlowestP99: [1.2, 3],
} as const;

/** The kinds of stream fault a generated LLM scenario can carry. */
export const STREAM_FAULT_KINDS = ["prefill_queueing", "decode_slowdown", "stream_cuts", "mild_stream"] as const;
export type StreamFaultKind = (typeof STREAM_FAULT_KINDS)[number];

/** Added to the simulator seed for the LLM draws' own generator. */
const LLM_SEED_SALT = 0x11a5;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Whether scenario `seed` carries streams at this share: the first draw of its LLM generator. */
export function llmGenerator(seed: number, share: number): Rng | null {
  if (!(share >= 0 && share <= 1)) throw new RangeError(`llmShare must be a number from 0 to 1, got ${share}`);
  if (share === 0) return null;
  const rng = createRng(seed + LLM_SEED_SALT);
  return rng.next() < share ? rng : null;
}

function streamFault(rng: Rng, kind: StreamFaultKind, cluster: string, durationS: number): JsonObject {
  const at = rng.int(30, Math.max(31, durationS - 120));
  const base = { at_s: at, cluster };
  switch (kind) {
    case "prefill_queueing": {
      const ramp = rng.int(0, 120);
      return { ...base, ttft_x: round(rng.uniform(2, 8), 1), ramp_s: ramp, for_s: ramp + rng.int(60, 240), recover_ramp_s: rng.int(0, 60) };
    }
    case "decode_slowdown": {
      const ramp = rng.int(0, 90);
      return { ...base, tpot_x: round(rng.uniform(1.5, 5), 1), ramp_s: ramp, for_s: ramp + rng.int(60, 240), recover_ramp_s: rng.int(0, 30) };
    }
    case "stream_cuts":
      return {
        ...base, cut_rate: round(rng.uniform(0.05, 0.6), 2), cut_as: rng.chance(0.5) ? "error_event" : "reset",
        ramp_s: rng.int(0, 20), for_s: rng.int(30, 240),
      };
    case "mild_stream":
      // Inside the objectives' slack: a policy must not cut for these.
      return rng.chance(0.5)
        ? { ...base, ttft_x: round(rng.uniform(1.1, 1.4), 2), ramp_s: rng.int(0, 60), for_s: rng.int(60, 300) }
        : { ...base, tpot_x: round(rng.uniform(1.1, 1.3), 2), ramp_s: rng.int(0, 60), for_s: rng.int(60, 300) };
  }
}

/**
 * Gives every cluster of a generated scenario's JSON an llm block, sets the stream objectives and
 * the timeouts they need, and adds stream faults unless `faultFree` (a long fault-free run, there
 * to count false cuts); returns a note for the description.
 */
export function addStreams(rng: Rng, raw: JsonObject, faultFree: boolean): string {
  const R = LLM_RANGES;
  const clusters = raw.clusters as JsonObject[];
  const slo = raw.slo as JsonObject;
  const durationS = raw.duration_s as number;
  const blocks = clusters.map(() => {
    const ttft = round(rng.uniform(R.ttftP50Ms[0], R.ttftP50Ms[1]));
    const tpot = round(rng.uniform(R.tpotP50Ms[0], R.tpotP50Ms[1]), 1);
    const tokens = round(rng.uniform(R.outputTokensP50[0], R.outputTokensP50[1]));
    return {
      stream_fraction: round(rng.uniform(R.streamFraction[0], R.streamFraction[1]), 2),
      ttft_ms: { p50: ttft, p99: round(ttft * rng.uniform(R.ttftP99OverP50[0], R.ttftP99OverP50[1])) },
      tpot_ms: { p50: tpot, p99: round(tpot * rng.uniform(R.tpotP99OverP50[0], R.tpotP99OverP50[1]), 1) },
      output_tokens: { p50: tokens, p99: round(tokens * rng.uniform(R.outputTokensP99OverP50[0], R.outputTokensP99OverP50[1])) },
      tokens_per_event: Math.max(1, Math.ceil(tokens / R.eventsPerMedianAnswer)),
      usage: rng.chance(0.8),
    };
  });
  clusters.forEach((c, i) => (c.llm = blocks[i]!));
  const slowestTtft = Math.max(...blocks.map((b) => b.ttft_ms.p99));
  const slowestTpot = Math.max(...blocks.map((b) => b.tpot_ms.p99));
  const longest = Math.max(...blocks.map((b) => b.ttft_ms.p99 + b.output_tokens.p99 * b.tpot_ms.p99));
  slo.ttft_ms = Math.ceil(slowestTtft * rng.uniform(R.sloOverSlowestP99[0], R.sloOverSlowestP99[1]));
  slo.tpot_ms = round(slowestTpot * rng.uniform(R.sloOverSlowestP99[0], R.sloOverSlowestP99[1]), 1);
  slo.latency_ms = Math.max(slo.latency_ms as number, Math.ceil(longest));
  slo.client_timeout_ms = Math.max(slo.client_timeout_ms as number, 2 * slo.ttft_ms, (slo.latency_ms as number) + 100);

  const count = faultFree ? 0 : rng.pick([0, 1, 1, 1, 2]);
  const notes: string[] = [];
  const faults = raw.faults as JsonObject[];
  for (let f = 0; f < count; f++) {
    const target = clusters[rng.int(0, clusters.length - 1)]!.name as string;
    const kind = rng.pick(STREAM_FAULT_KINDS);
    const fault = streamFault(rng, kind, target, durationS);
    if ((fault.ramp_s as number) > (fault.for_s as number)) fault.ramp_s = fault.for_s as number;
    faults.push(fault);
    notes.push(`${kind} on ${target}`);
  }
  return `streams${notes.length > 0 ? ` (${notes.join(", ")})` : ""}`;
}
