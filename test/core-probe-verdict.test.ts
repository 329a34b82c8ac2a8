// The half-open probe verdict (control-plane/src/core/probe-verdict.ts) on plain data: a window,
// the scorers' combined verdict on it, the evidence pooled so far and the p50 baseline.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { DEFAULT_CONFIG } from "../control-plane/src/core/config.js";
import { judgeProbe, noProbeEvidence, type ProbeConfig, type ProbeEvidence, type ProbeInput } from "../control-plane/src/core/probe-verdict.js";
import { clusterWindow } from "./cluster-window.js";
import { mergedStreams, times } from "./support/streams.js";
import type { ClusterWindowStats, ScoreResult } from "../control-plane/src/core/types.js";

// minRequests 20, scoreThreshold 0.5, errorRateThreshold 0.05, minRelativeRise 1.5, minProbeRequests 5.
const CONFIG: ProbeConfig = { detector: DEFAULT_CONFIG.detector, breaker: DEFAULT_CONFIG.breaker, sloLatencyMs: 2000 };
const CALM: ScoreResult = { score: 0, hard: false, reasons: [] };

const win = (over: Partial<ClusterWindowStats> = {}): ClusterWindowStats =>
  clusterWindow({ requests: 10, p50Ms: 200, p95Ms: 600, p99Ms: 900, rps: 10, ...over });

const probe = (window: Partial<ClusterWindowStats>, over: Partial<Omit<ProbeInput, "window">> = {}): ProbeInput => ({
  window: win(window),
  combined: CALM,
  evidence: noProbeEvidence(),
  baselineP50Ms: 200,
  ...over,
});

describe("the verdict on a half-open probe window", () => {
  const cases: { name: string; input: ProbeInput; probe: "healthy" | "unhealthy" | "none"; reason: string; evidence: ProbeEvidence }[] = [
    {
      name: "a hard verdict makes it unhealthy at once, with the verdict's reasons, and uses the pooled evidence up",
      input: probe({ requests: 3 }, { combined: { score: 1, hard: true, reasons: ["error rate 40%", "p99 over slo"] }, evidence: { requests: 4, failures: 0, slow: 0, slowNotFailed: 0, streams: 0, ttftSlow: 0 } }),
      probe: "unhealthy",
      reason: "error rate 40%; p99 over slo",
      evidence: noProbeEvidence(),
    },
    {
      name: "an anomalous score on a window with the scorers' minimum of requests makes it unhealthy, 'anomalous' without reasons",
      input: probe({ requests: 20 }, { combined: { score: 0.5, hard: false, reasons: [] } }),
      probe: "unhealthy",
      reason: "anomalous",
      evidence: noProbeEvidence(),
    },
    {
      name: "an anomalous score on a window under the scorers' minimum is not trusted: the window is pooled",
      input: probe({ requests: 3 }, { combined: { score: 0.9, hard: false, reasons: ["model"] } }),
      probe: "none",
      reason: "",
      evidence: { requests: 3, failures: 0, slow: 0, slowNotFailed: 0, streams: 0, ttftSlow: 0 },
    },
    {
      name: "a thin window adds its requests, failures and slow requests to the evidence and gives no verdict",
      input: probe({ requests: 2, errorRate: 0.5, slowRequests: 1 }, { evidence: { requests: 1, failures: 0, slow: 0, slowNotFailed: 0, streams: 0, ttftSlow: 0 } }),
      probe: "none",
      reason: "",
      evidence: { requests: 3, failures: 1, slow: 1, slowNotFailed: 1, streams: 0, ttftSlow: 0 },
    },
    {
      name: "thin windows pooled up to minProbeRequests are judged, healthy when calm, and the evidence is used up",
      input: probe({ requests: 3 }, { evidence: { requests: 3, failures: 0, slow: 0, slowNotFailed: 0, streams: 0, ttftSlow: 0 } }),
      probe: "healthy",
      reason: "",
      evidence: noProbeEvidence(),
    },
    {
      name: "failures above the error-rate threshold among the pooled requests, two at least, make it unhealthy",
      input: probe({ requests: 4, errorRate: 0.25 }, { evidence: { requests: 4, failures: 1, slow: 0, slowNotFailed: 0, streams: 0, ttftSlow: 0 } }),
      probe: "unhealthy",
      reason: "probe error rate 25% (2 of 8)",
      evidence: noProbeEvidence(),
    },
    {
      name: "a single failure is not enough, whatever its rate",
      input: probe({ requests: 10, errorRate: 0.1 }),
      probe: "healthy",
      reason: "",
      evidence: noProbeEvidence(),
    },
    {
      name: "a p50 above the baseline × minRelativeRise on a window of minProbeRequests makes it unhealthy",
      input: probe({ requests: 5, p50Ms: 301 }),
      probe: "unhealthy",
      reason: "probe p50 301ms vs baseline 200ms",
      evidence: noProbeEvidence(),
    },
    {
      name: "a p50 at exactly the baseline × minRelativeRise is healthy",
      input: probe({ requests: 5, p50Ms: 300 }),
      probe: "healthy",
      reason: "",
      evidence: noProbeEvidence(),
    },
    {
      name: "the p50 of a window under minProbeRequests is not judged, even when pooled evidence suffices",
      input: probe({ requests: 2, p50Ms: 900 }, { evidence: { requests: 4, failures: 0, slow: 0, slowNotFailed: 0, streams: 0, ttftSlow: 0 } }),
      probe: "healthy",
      reason: "",
      evidence: noProbeEvidence(),
    },
    {
      name: "without a baseline yet (NaN) the p50 is not judged",
      input: probe({ requests: 10, p50Ms: 900 }, { baselineP50Ms: NaN }),
      probe: "healthy",
      reason: "",
      evidence: noProbeEvidence(),
    },
    {
      name: "more than 1% of the pooled requests over the SLO latency, two at least, make it unhealthy",
      input: probe({ requests: 100, slowRequests: 2 }),
      probe: "unhealthy",
      reason: "probe: 2 of 100 requests over slo 2000ms",
      evidence: noProbeEvidence(),
    },
    {
      name: "one slow request is not enough, whatever its share",
      input: probe({ requests: 10, slowRequests: 1 }),
      probe: "healthy",
      reason: "",
      evidence: noProbeEvidence(),
    },
    {
      name: "exactly 1% of the requests over the SLO latency is healthy",
      input: probe({ requests: 200, slowRequests: 2 }),
      probe: "healthy",
      reason: "",
      evidence: noProbeEvidence(),
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const before = { ...c.input.evidence };
      const { verdict, evidence } = judgeProbe(c.input, CONFIG);
      assert.deepEqual(verdict, { probe: c.probe, reason: c.reason });
      assert.deepEqual(evidence, c.evidence);
      assert.deepEqual(c.input.evidence, before, "the evidence passed in is not changed");
    });
  }

  it("thin windows carry their evidence from one call to the next until there is enough to judge", () => {
    let evidence = noProbeEvidence();
    const verdicts: string[] = [];
    for (const requests of [2, 2, 2]) {
      const judged = judgeProbe(probe({ requests, errorRate: 0.5 }, { evidence }), CONFIG);
      verdicts.push(judged.verdict.probe);
      evidence = judged.evidence;
    }
    assert.deepEqual(verdicts, ["none", "none", "unhealthy"]);
    assert.deepEqual(evidence, noProbeEvidence());
  });
});

describe("a half-open probe of streamed responses, judged on its time to first token", () => {
  const TTFT_CONFIG: ProbeConfig = { ...CONFIG, sloTtftMs: 500 };
  // Probe windows whose requests are streams: total latency (the whole answer) far over the
  // latency SLO, which would fail the probe if it were judged as any request.
  const streamWindow = (streams: number, ttftSlow: number, over: Partial<ClusterWindowStats> = {}) =>
    win({ requests: streams, p50Ms: 9000, slowRequests: streams, streams: mergedStreams({ ttftMs: [...times(streams - ttftSlow, 200), ...times(ttftSlow, 900)] }, { ttftMs: 500 }), ...over });
  const cases: { name: string; window: ClusterWindowStats; config: ProbeConfig; probe: "healthy" | "unhealthy"; reason: string; combined?: ScoreResult }[] = [
    {
      name: "the scores, which read total latency, do not fail streams whose first token is fast",
      window: streamWindow(40, 0),
      config: TTFT_CONFIG,
      probe: "healthy",
      reason: "",
      combined: { score: 1, hard: true, reasons: ["p99 9000ms > slo 2000ms"] },
    },
    {
      name: "without a TTFT objective those scores fail the probe at once",
      window: streamWindow(40, 0),
      config: CONFIG,
      probe: "unhealthy",
      reason: "p99 9000ms > slo 2000ms",
      combined: { score: 1, hard: true, reasons: ["p99 9000ms > slo 2000ms"] },
    },
    { name: "streams with a fast first token are healthy although their answers outlast the latency SLO", window: streamWindow(10, 0), config: TTFT_CONFIG, probe: "healthy", reason: "" },
    { name: "two of ten streams over the TTFT objective make it unhealthy, naming the objective", window: streamWindow(10, 2), config: TTFT_CONFIG, probe: "unhealthy", reason: "probe: 2 of 10 streams over ttft slo 500ms" },
    { name: "one stream over the TTFT objective is not enough", window: streamWindow(10, 1), config: TTFT_CONFIG, probe: "healthy", reason: "" },
    { name: "without a TTFT objective the streams are judged as any request (total latency)", window: streamWindow(10, 0), config: CONFIG, probe: "unhealthy", reason: "probe p50 9000ms vs baseline 200ms" },
    { name: "failures come first: streams failed inside a 200 fail the probe whatever their TTFT", window: streamWindow(10, 0, { errorRate: 0.3 }), config: TTFT_CONFIG, probe: "unhealthy", reason: "probe error rate 30% (3 of 10)" },
    {
      name: "streams whose first tokens came but whose answers have not ended yet are judged on those first tokens",
      window: win({ requests: 0, p50Ms: NaN, streams: mergedStreams({ ttftMs: [...times(7, 200), ...times(3, 900)], streams: 0 }, { ttftMs: 500 }) }),
      config: TTFT_CONFIG,
      probe: "unhealthy",
      reason: "probe: 3 of 10 streams over ttft slo 500ms",
    },
    { name: "a probe that is mostly plain requests is judged on its total latency", window: streamWindow(4, 0, { requests: 10, slowRequests: 4 }), config: TTFT_CONFIG, probe: "unhealthy", reason: "probe p50 9000ms vs baseline 200ms" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { verdict } = judgeProbe({ window: c.window, combined: c.combined ?? CALM, evidence: noProbeEvidence(), baselineP50Ms: 200 }, c.config);
      assert.deepEqual(verdict, { probe: c.probe, reason: c.reason });
    });
  }

  it("thin stream probes pool their streams and slow first tokens until there is enough to judge", () => {
    const first = judgeProbe({ window: streamWindow(3, 1), combined: CALM, evidence: noProbeEvidence(), baselineP50Ms: 200 }, TTFT_CONFIG);
    assert.equal(first.verdict.probe, "none");
    assert.deepEqual(first.evidence, { requests: 3, failures: 0, slow: 3, slowNotFailed: 3, streams: 3, ttftSlow: 1 });
    const second = judgeProbe({ window: streamWindow(3, 1), combined: CALM, evidence: first.evidence, baselineP50Ms: 200 }, TTFT_CONFIG);
    assert.deepEqual(second.verdict, { probe: "unhealthy", reason: "probe: 2 of 6 streams over ttft slo 500ms" });
  });
});

describe("a failing probe judged against the alternative while the other clusters strain", () => {
  const TTFT_CONFIG: ProbeConfig = { ...CONFIG, sloTtftMs: 500 };
  const streams = (n: number, slow: number, over: Partial<ClusterWindowStats> = {}) =>
    win({ requests: n, p50Ms: 9000, slowRequests: n, streams: mergedStreams({ ttftMs: [...times(n - slow, 200), ...times(slow, 900)] }, { ttftMs: 500 }), ...over });
  // A full probe window (40 requests, over minRequests) that the hard rules call failing.
  const failing60 = win({ requests: 40, errorRate: 0.6 });
  const HARD_60: ScoreResult = { score: 1, hard: true, reasons: ["error rate 60%"] };
  const ANOMALOUS: ScoreResult = { score: 0.9, hard: false, reasons: ["p99 over slo"] };
  // 8 of 40 failed (timed out), 24 over the objective: the 8 timeouts are among the 24, so 24 bad in all (60 %).
  const slow60 = win({ requests: 40, errorRate: 0.2, slowRequests: 24, timeouts: 8 });
  const cases: { name: string; window: ClusterWindowStats; config: ProbeConfig; alternative?: number; combined?: ScoreResult; probe: "healthy" | "unhealthy"; reason: string }[] = [
    { name: "2 of 10 streams over the TTFT objective is healthy enough when the others serve 30 % badly", window: streams(10, 2), config: TTFT_CONFIG, alternative: 0.3, probe: "healthy", reason: "probe: 2 of 10 streams over ttft slo 500ms, but 20% of 10 probe streams bad against 30% on the others, which strain under its load" },
    { name: "the same probe stays unhealthy when the others serve only 10 % badly", window: streams(10, 2), config: TTFT_CONFIG, alternative: 0.1, probe: "unhealthy", reason: "probe: 2 of 10 streams over ttft slo 500ms" },
    { name: "a probe no better than the alternative stays unhealthy (20 % against 20 %)", window: streams(10, 2), config: TTFT_CONFIG, alternative: 0.2, probe: "unhealthy", reason: "probe: 2 of 10 streams over ttft slo 500ms" },
    { name: "30 % failed probes close when the others fail 40 %", window: win({ errorRate: 0.3 }), config: CONFIG, alternative: 0.4, probe: "healthy", reason: "probe error rate 30% (3 of 10), but 30% of 10 probe requests bad against 40% on the others, which strain under its load" },
    { name: "30 % timed-out probes (each also over the objective) count once: they close when the others fail 40 %", window: win({ errorRate: 0.3, timeouts: 3, slowRequests: 3 }), config: CONFIG, alternative: 0.4, probe: "healthy", reason: "probe error rate 30% (3 of 10), but 30% of 10 probe requests bad against 40% on the others, which strain under its load" },
    { name: "30 % failed probes stay unhealthy when the others fail 20 %", window: win({ errorRate: 0.3 }), config: CONFIG, alternative: 0.2, probe: "unhealthy", reason: "probe error rate 30% (3 of 10)" },
    { name: "a raised p50 with every request inside the objective closes when the others fail 5 %", window: win({ p50Ms: 900 }), config: CONFIG, alternative: 0.05, probe: "healthy", reason: "probe p50 900ms vs baseline 200ms, but 0.0% of 10 probe requests bad against 5.0% on the others, which strain under its load" },
    { name: "without straining others (no alternative) the verdict is the plain one", window: win({ errorRate: 0.3 }), config: CONFIG, probe: "unhealthy", reason: "probe error rate 30% (3 of 10)" },
    { name: "a hard verdict on a window of 60 % failed probes closes when the others fail 90 %", window: failing60, config: CONFIG, alternative: 0.9, combined: HARD_60, probe: "healthy", reason: "error rate 60%, but 60% of 40 probe requests bad against 90% on the others, which strain under its load" },
    { name: "the same hard verdict stands when the others fail 50 %", window: failing60, config: CONFIG, alternative: 0.5, combined: HARD_60, probe: "unhealthy", reason: "error rate 60%" },
    { name: "the same hard verdict stands without straining others (no alternative)", window: failing60, config: CONFIG, combined: HARD_60, probe: "unhealthy", reason: "error rate 60%" },
    { name: "anomalous scores with timeouts among the slow requests count each bad request once: 60 % stays unhealthy against 50 %", window: slow60, config: CONFIG, alternative: 0.5, combined: ANOMALOUS, probe: "unhealthy", reason: "p99 over slo" },
    { name: "the same window closes against 70 % (counted twice, its 80 % would not)", window: slow60, config: CONFIG, alternative: 0.7, combined: ANOMALOUS, probe: "healthy", reason: "p99 over slo, but 60% of 40 probe requests bad against 70% on the others, which strain under its load" },
  ];
  it("a hard verdict on fewer probe requests than minProbeRequests stands whatever the others serve (3 requests, none failed, against 90 %)", () => {
    const { verdict } = judgeProbe({ window: win({ requests: 3 }), combined: HARD_60, evidence: noProbeEvidence(), baselineP50Ms: 200, alternativeBadFraction: 0.9 }, CONFIG);
    assert.deepEqual(verdict, { probe: "unhealthy", reason: "error rate 60%" });
  });
  it("a hard verdict is judged on the thin probe windows pooled before it too: 3 + 3 requests, 1 failed, close against 50 %", () => {
    const first = judgeProbe({ window: win({ requests: 3, errorRate: 1 / 3 }), combined: CALM, evidence: noProbeEvidence(), baselineP50Ms: 200 }, CONFIG);
    assert.equal(first.verdict.probe, "none");
    const { verdict } = judgeProbe({ window: win({ requests: 3 }), combined: HARD_60, evidence: first.evidence, baselineP50Ms: 200, alternativeBadFraction: 0.5 }, CONFIG);
    assert.deepEqual(verdict, { probe: "healthy", reason: "error rate 60%, but 17% of 6 probe requests bad against 50% on the others, which strain under its load" });
  });
  it("a hard verdict on a window that does not count its slow requests stands (a latency verdict would pass on failures alone)", () => {
    const { slowRequests: _none, ...uncounted } = failing60;
    const { verdict } = judgeProbe({ window: { ...uncounted, errorRate: 0 }, combined: HARD_60, evidence: noProbeEvidence(), baselineP50Ms: 200, alternativeBadFraction: 0.9 }, CONFIG);
    assert.deepEqual(verdict, { probe: "unhealthy", reason: "error rate 60%" });
  });
  it("a pooled verdict on a window that does not count its slow requests stands too (30 % failed, against 90 %)", () => {
    const { slowRequests: _none, ...uncounted } = win({ errorRate: 0.3 });
    const { verdict } = judgeProbe({ window: uncounted, combined: CALM, evidence: noProbeEvidence(), baselineP50Ms: 200, alternativeBadFraction: 0.9 }, CONFIG);
    assert.deepEqual(verdict, { probe: "unhealthy", reason: "probe error rate 30% (3 of 10)" });
  });
  for (const c of cases) {
    it(c.name, () => {
      const { verdict } = judgeProbe(
        { window: c.window, combined: c.combined ?? CALM, evidence: noProbeEvidence(), baselineP50Ms: 200, ...(c.alternative !== undefined ? { alternativeBadFraction: c.alternative } : {}) },
        c.config,
      );
      assert.deepEqual(verdict, { probe: c.probe, reason: c.reason });
    });
  }
});
