// Streamed responses (Content-Type text/event-stream, OpenAI-compatible SSE) through the real
// build/filter.wasm on virtual time: time to first token, tokens (usage or chunk count), time per
// output token, the largest gap, and cut streams, as the window report's StreamWindow carries them.
import { after, before, describe, it, test } from "node:test";
import assert from "node:assert/strict";
import { HeaderMap, responseFlagsMask, type PluginTester } from "../filter/host/index.js";
import { bucketOf } from "../lib/histogram.js";
import type { ClusterWindow, LatencyHistogram } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { FakeControlPlane, startFilter } from "./filter-support.js";

let t: PluginTester;
let cp: FakeControlPlane;

before(async () => {
  ({ t, cp } = await startFilter());
  cp.push({ version: 1, clusters: [{ cluster: "llm-a", weight: 50 }, { cluster: "llm-b", weight: 50 }] });
});
after(() => t.close());

const REQUEST: Array<[string, string]> = [
  [":method", "POST"], [":path", "/v1/chat/completions"], [":authority", "test"], [":scheme", "http"], ["x-autoglm-target", "llm-a"],
];
const SSE = "text/event-stream; charset=utf-8";

/** An OpenAI-style content event. */
const token = (text: string): string => `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"${text}"}}]}\n\n`;
/** The final usage event (stream_options.include_usage), as vLLM sends it, with a long model name. */
const usage = (completion: number): string =>
  `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","model":"meta-llama/Llama-3.1-70B-Instruct","choices":[],"usage":{"prompt_tokens":12,"total_tokens":${12 + completion},"completion_tokens":${completion}}}\n\n`;
const DONE = "data: [DONE]\n\n";

interface Stream {
  /** ms from the request's headers to the response's headers. */
  headersAfterMs?: number;
  contentType?: string;
  status?: number;
  /** [ms after the previous step, body bytes]; "" sends an empty chunk. */
  chunks: Array<[number, string]>;
  /** How it ends: the upstream's end of stream (default), Envoy flags (a reset, a timeout, the client leaving), or nothing. */
  end?: "eos" | "UR" | "UT" | "DC";
}

/** Drives one stream step by step, then closes the window and returns llm-a's StreamWindow(s) merged by the test's reading. */
function run(s: Stream): ClusterWindow[] {
  t.advance(1000); // close the window holding earlier traffic
  const before = cp.sent("report").length;
  const h = t.plugin.createHttpStream();
  h.sendRequestHeaders(HeaderMap.from(REQUEST), true);
  t.advance(s.headersAfterMs ?? 5);
  h.sendResponseHeaders(HeaderMap.from([[":status", String(s.status ?? 200)], ["content-type", s.contentType ?? SSE]]), false);
  const end = s.end ?? "eos";
  s.chunks.forEach(([delay, body], i) => {
    t.advance(delay);
    const last = end === "eos" && i === s.chunks.length - 1;
    const action = h.sendResponseBody(new TextEncoder().encode(body), last);
    assert.equal(action, 0, "every body callback continues");
  });
  if (end !== "eos") h.setProperty("response.flags", responseFlagsMask([end]));
  h.complete();
  t.advance(1000);
  return cp.sent("report").slice(before).flatMap((r) => r.clusters).filter((w) => w.cluster === "llm-a");
}

/** The one value recorded in a histogram (its bucket's lower bound is what survives), or null when empty. */
function only(h: LatencyHistogram | undefined): number | null {
  if (h === undefined) return null;
  const total = h.counts.reduce((a, b) => a + b, 0);
  assert.equal(total, 1, "one sample");
  assert.equal(Number(h.sumUs), Number(h.maxUs));
  return Number(h.sumUs);
}

interface Expected {
  streams: number; cut: number; failedInStream: number; tokensOut: number; tokensEstimated: number;
  ttftUs: number | null; tpotUs: number | null; maxGapUs: number | null; requests: number; errors5xx: number; resets: number; timeouts: number;
}

const samples = (h: LatencyHistogram | undefined): number => h?.counts.reduce((a, b) => a + b, 0) ?? 0;

/** What llm-a's windows of one stream say: the request's start (sent) and its first token may
 *  fall in an earlier window than its end. */
function observed(windows: ClusterWindow[]): Expected {
  const ended = windows.filter((w) => w.requests > 0);
  assert.equal(ended.length, 1, "one window of llm-a holds the ended request");
  assert.equal(windows.reduce((a, w) => a + w.sent, 0), 1, "the request is counted as sent once");
  const firstTokens = windows.filter((w) => samples(w.streams?.ttft) > 0);
  assert.ok(firstTokens.length <= 1, "its first token is in one window");
  const w = ended[0]!;
  const s = w.streams;
  return {
    streams: s?.streams ?? 0, cut: s?.cut ?? 0, failedInStream: s?.failedInStream ?? 0,
    tokensOut: Number(s?.tokensOut ?? 0n), tokensEstimated: Number(s?.tokensEstimated ?? 0n),
    ttftUs: only(firstTokens[0]?.streams?.ttft), tpotUs: only(s?.tpot), maxGapUs: only(s?.maxGap),
    requests: w.requests, errors5xx: w.errors5xx, resets: w.resets, timeouts: w.timeouts,
  };
}

const TEN_TOKENS: Array<[number, string]> = Array.from({ length: 10 }, (_, i) => [i === 0 ? 200 : 20, token(`t${i}`)]);

const CASES: Array<{ name: string; stream: Stream; expected: Expected }> = [
  {
    name: "a clean stream with usage: TTFT from the request's headers to the first chunk, tokens from usage, TPOT over them, the largest gap",
    stream: { headersAfterMs: 5, chunks: [...TEN_TOKENS.slice(0, 9), [90, token("t9")], [10, usage(28) + DONE]] },
    // first chunk at 5 + 200 ms; last at 5 + 200 + 8*20 + 90 + 10 = 465 ms; TPOT = (465 - 205) ms / (28 - 1) = 9629 µs
    expected: { streams: 1, cut: 0, failedInStream: 0, tokensOut: 28, tokensEstimated: 0, ttftUs: 205_000, tpotUs: 9629, maxGapUs: 90_000, requests: 1, errors5xx: 0, resets: 0, timeouts: 0 },
  },
  {
    name: "a clean stream without usage: tokens counted as non-empty chunks (estimated); empty chunks are not tokens; no time per token (an event may carry several)",
    stream: { chunks: [...TEN_TOKENS, [0, ""], [20, DONE]] },
    // 11 non-empty chunks (10 tokens and [DONE]); first at 5 + 200, last at 5 + 200 + 9*20 + 20 = 405 ms: 200 ms / 10
    expected: { streams: 1, cut: 0, failedInStream: 0, tokensOut: 11, tokensEstimated: 11, ttftUs: 200_000 + 5_000, tpotUs: null, maxGapUs: 20_000, requests: 1, errors5xx: 0, resets: 0, timeouts: 0 },
  },
  {
    name: "events split across chunks: usage and [DONE] found in the tail whatever the cut",
    stream: { chunks: [[50, token("a").slice(0, 30)], [10, token("a").slice(30) + token("b")], [10, usage(7).slice(0, 150)], [10, usage(7).slice(150) + "data: [DO"], [10, "NE]\n\n"]] },
    expected: { streams: 1, cut: 0, failedInStream: 0, tokensOut: 7, tokensEstimated: 0, ttftUs: 55_000, tpotUs: 6666, maxGapUs: 10_000, requests: 1, errors5xx: 0, resets: 0, timeouts: 0 },
  },
  {
    name: "a stream that ends without [DONE] is cut, and a failure in the stream (its 200 counted nowhere else)",
    stream: { chunks: TEN_TOKENS },
    expected: { streams: 1, cut: 1, failedInStream: 1, tokensOut: 10, tokensEstimated: 10, ttftUs: 205_000, tpotUs: null, maxGapUs: 20_000, requests: 1, errors5xx: 0, resets: 0, timeouts: 0 },
  },
  {
    name: "an error event after a 200 is a cut stream and a failure in the stream",
    stream: { chunks: [...TEN_TOKENS.slice(0, 3), [30, 'data: {"error":{"message":"engine dead","type":"InternalServerError","code":500}}\n\n'], [1, DONE]] },
    expected: { streams: 1, cut: 1, failedInStream: 1, tokensOut: 5, tokensEstimated: 5, ttftUs: 205_000, tpotUs: null, maxGapUs: 30_000, requests: 1, errors5xx: 0, resets: 0, timeouts: 0 },
  },
  {
    name: "an upstream reset after the headers is a cut stream, already counted as a reset",
    stream: { chunks: TEN_TOKENS.slice(0, 4), end: "UR" },
    expected: { streams: 1, cut: 1, failedInStream: 0, tokensOut: 4, tokensEstimated: 4, ttftUs: 205_000, tpotUs: null, maxGapUs: 20_000, requests: 1, errors5xx: 0, resets: 1, timeouts: 0 },
  },
  {
    name: "a timeout after the headers, before any chunk, is a cut stream without TTFT, counted as a timeout",
    stream: { chunks: [], end: "UT" },
    expected: { streams: 1, cut: 1, failedInStream: 0, tokensOut: 0, tokensEstimated: 0, ttftUs: null, tpotUs: null, maxGapUs: null, requests: 1, errors5xx: 0, resets: 0, timeouts: 1 },
  },
  {
    name: "a client that leaves mid-stream cuts nothing the upstream did: a stream, not cut",
    stream: { chunks: TEN_TOKENS.slice(0, 2), end: "DC" },
    expected: { streams: 1, cut: 0, failedInStream: 0, tokensOut: 2, tokensEstimated: 2, ttftUs: 205_000, tpotUs: null, maxGapUs: 20_000, requests: 1, errors5xx: 0, resets: 0, timeouts: 0 },
  },
  {
    name: "a stream in one chunk has a TTFT but no gap and no time per token",
    stream: { chunks: [[40, token("x") + usage(3) + DONE]] },
    expected: { streams: 1, cut: 0, failedInStream: 0, tokensOut: 3, tokensEstimated: 0, ttftUs: 45_000, tpotUs: null, maxGapUs: null, requests: 1, errors5xx: 0, resets: 0, timeouts: 0 },
  },
  {
    name: "a 500 with an SSE body is counted as a 5xx, its cut not again as a failure in the stream",
    stream: { status: 500, chunks: [[10, 'data: {"error":"overloaded"}\n\n']] },
    expected: { streams: 1, cut: 1, failedInStream: 0, tokensOut: 1, tokensEstimated: 1, ttftUs: 15_000, tpotUs: null, maxGapUs: null, requests: 1, errors5xx: 1, resets: 0, timeouts: 0 },
  },
  {
    name: "a response that is not text/event-stream is no stream (no StreamWindow at all)",
    stream: { contentType: "application/json", chunks: [[10, '{"choices":[]}'], [10, "\n"]] },
    expected: { streams: 0, cut: 0, failedInStream: 0, tokensOut: 0, tokensEstimated: 0, ttftUs: null, tpotUs: null, maxGapUs: null, requests: 1, errors5xx: 0, resets: 0, timeouts: 0 },
  },
  {
    name: "the media type is read case-insensitively",
    stream: { contentType: "Text/Event-Stream", chunks: [[10, token("a")], [10, DONE]] },
    expected: { streams: 1, cut: 0, failedInStream: 0, tokensOut: 2, tokensEstimated: 2, ttftUs: 15_000, tpotUs: null, maxGapUs: 10_000, requests: 1, errors5xx: 0, resets: 0, timeouts: 0 },
  },
];

for (const c of CASES) {
  test(`${c.name}`, () => {
    const got = observed(run(c.stream));
    // Histograms keep the exact sum and max of one sample; check its bucket too.
    for (const k of ["ttftUs", "tpotUs", "maxGapUs"] as const) {
      if (c.expected[k] !== null && got[k] !== null) assert.equal(bucketOf(got[k]!), bucketOf(c.expected[k]!), k);
    }
    assert.deepEqual(got, c.expected);
  });
}

test("a long stream's usage is found in the last bytes however many chunks came before", () => {
  const chunks: Array<[number, string]> = Array.from({ length: 500 }, (_, i) => [i === 0 ? 100 : 10, token(`w${i}`)]);
  chunks.push([10, usage(612) + DONE]);
  const windows = run({ chunks });
  // Five seconds long: its TTFT is in the window of its first token, the rest in the one it ends in.
  const withTtft = windows.filter((w) => (w.streams?.ttft?.counts.length ?? 0) > 0);
  assert.equal(withTtft.length, 1);
  assert.equal(only(withTtft[0]!.streams!.ttft), 105_000);
  const got = observed(windows);
  assert.deepEqual([got.streams, got.cut, got.tokensOut, got.tokensEstimated, got.ttftUs, got.maxGapUs], [1, 0, 612, 0, 105_000, 10_000]);
  assert.equal(got.tpotUs, Math.floor(5_000_000 / 611), "(last - first) / (tokens - 1), in whole microseconds");
});

test("a stream's time to first token is reported in the window its first token came in, before the stream ends", () => {
  t.advance(1000); // close the window holding earlier traffic
  const before = cp.sent("report").length;
  const h = t.plugin.createHttpStream();
  h.sendRequestHeaders(HeaderMap.from(REQUEST), true);
  t.advance(5);
  h.sendResponseHeaders(HeaderMap.from([[":status", "200"], ["content-type", SSE]]), false);
  t.advance(300);
  h.sendResponseBody(new TextEncoder().encode(token("first")), false);
  t.advance(1000); // the window of the first token closes while the stream goes on
  const early = cp.sent("report").slice(before).flatMap((r) => r.clusters).filter((w) => w.cluster === "llm-a");
  assert.equal(early.length, 1, "the window of the first token is reported though no request of llm-a ended in it");
  assert.equal(early[0]!.requests, 0);
  assert.equal(early[0]!.streams?.streams, 0, "no stream ended yet");
  assert.equal(only(early[0]!.streams?.ttft), 305_000, "TTFT from the request's headers to the first chunk");
  const middle = cp.sent("report").length;
  for (let i = 0; i < 5; i++) {
    t.advance(400);
    h.sendResponseBody(new TextEncoder().encode(token(`t${i}`)), false);
  }
  h.sendResponseBody(new TextEncoder().encode(usage(6) + DONE), true);
  h.complete();
  t.advance(1000);
  const late = cp.sent("report").slice(middle).flatMap((r) => r.clusters).filter((w) => w.cluster === "llm-a" && (w.streams?.streams ?? 0) > 0);
  assert.equal(late.length, 1);
  assert.equal(late[0]!.streams!.streams, 1);
  assert.equal(late[0]!.streams!.ttft?.counts.reduce((a, b) => a + b, 0) ?? 0, 0, "its TTFT is not counted twice");
});

test("a request is counted as sent in the window it starts in, and as a request in the one it ends in (the load offered, which ended requests lag)", () => {
  t.advance(1000);
  const before = cp.sent("report").length;
  const h = t.plugin.createHttpStream();
  h.sendRequestHeaders(HeaderMap.from(REQUEST), true);
  t.advance(1500); // a window closes while the request is in flight
  h.sendResponseHeaders(HeaderMap.from([[":status", "200"], ["content-type", "application/json"]]), false);
  h.sendResponseBody(new TextEncoder().encode("{}"), true);
  h.complete();
  t.advance(1000);
  const windows = cp.sent("report").slice(before).flatMap((r) => r.clusters).filter((w) => w.cluster === "llm-a");
  assert.deepEqual(windows.map((w) => [w.sent, w.requests]), [[1, 0], [0, 1]]);
});

// The local fallback breaker (no decisions from the control plane: it rules) on streams.
describe("the fallback breaker on streams", () => {
  const CONFIG = {
    node_id: "sidecar-1", zone: "zone-a", window_ms: 1000,
    clusters: [{ name: "llm-a", weight: 50 }, { name: "llm-b", weight: 50 }],
    fallback: { min_requests: 5, failure_rate: 0.5, slow_call_ms: 1000, slow_call_rate: 0.5, open_ms: 60_000 },
  };

  /** Sends five streams to llm-a (TTFT ttftMs, then 9 more chunks 500 ms apart), then asks whether llm-a still admits a request. */
  async function admitsAfter(ttftMs: number, last: string): Promise<boolean> {
    const { t: own } = await startFilter(CONFIG);
    try {
      for (let i = 0; i < 5; i++) {
        const h = own.plugin.createHttpStream();
        h.sendRequestHeaders(HeaderMap.from(REQUEST), true);
        own.advance(5);
        h.sendResponseHeaders(HeaderMap.from([[":status", "200"], ["content-type", SSE]]), false);
        own.advance(ttftMs);
        for (let c = 0; c < 9; c++) {
          h.sendResponseBody(new TextEncoder().encode(token(`c${c}`)), false);
          own.advance(500);
        }
        h.sendResponseBody(new TextEncoder().encode(last), true);
        h.complete();
      }
      const probe = own.request({ headers: REQUEST });
      return probe.localReply === null;
    } finally {
      own.close();
    }
  }

  it("judges a stream slow by its time to first token, not by its length (4.5 s long answers with a 100 ms TTFT are not slow)", async () => {
    assert.equal(await admitsAfter(100, DONE), true);
  });

  it("opens on streams whose first token takes longer than slow_call_ms", async () => {
    assert.equal(await admitsAfter(1500, DONE), false);
  });

  it("counts streams cut inside a 200 (no [DONE]) as failures", async () => {
    assert.equal(await admitsAfter(100, token("no end")), false);
  });
});
