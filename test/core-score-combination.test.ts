// The scoring step of a round (control-plane/src/core/score-combination.ts) on plain data: the
// scorers' verdicts combined, and what the newest window adds to a cluster's record.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { DEFAULT_CONFIG } from "../control-plane/src/core/config.js";
import { combineScores, recordNewestWindow, runScorers, type ScoredCluster, type ScorerVerdict } from "../control-plane/src/core/score-combination.js";
import { clusterWindow } from "./cluster-window.js";
import type { ClusterWindowStats, ScoreResult, Scorer } from "../control-plane/src/core/types.js";

// scoreThreshold 0.5, minRequests 20, m 5, severeErrorRate 0.5.
const D = DEFAULT_CONFIG.detector;
const verdict = (scorer: string, score: number, hard = false, reasons: string[] = [`${scorer} ${score}`], fromModel = false): ScorerVerdict => ({ scorer, result: { score, hard, reasons }, fromModel });

describe("the scorers' verdicts on a cluster combine into one", () => {
  const cases: [name: string, verdicts: ScorerVerdict[], modelWeight: number, expected: ScoreResult][] = [
    ["no verdicts: no risk", [], 1, { score: 0, hard: false, reasons: [] }],
    ["the score is the highest, the reasons those at or above the threshold", [verdict("trend", 0.4), verdict("dynamic_baseline", 0.6), verdict("hard_rules", 0.5)], 1, { score: 0.6, hard: false, reasons: ["dynamic_baseline 0.6", "hard_rules 0.5"] }],
    ["a hard verdict makes it hard and gives its reasons even with a low score", [verdict("hard_rules", 0.2, true), verdict("trend", 0.1)], 1, { score: 0.2, hard: true, reasons: ["hard_rules 0.2"] }],
    ["the model's score is weighted before it is compared", [verdict("model", 0.8, false, ["model 0.8"], true), verdict("trend", 0.3)], 0.5, { score: 0.4, hard: false, reasons: [] }],
    ["scores are clamped to [0, 1]", [verdict("model", 3, false, ["m"], true)], 1, { score: 1, hard: false, reasons: ["m"] }],
    ["a score that is not a number counts as 0", [verdict("model", NaN, false, ["m"], true), verdict("trend", 0.2)], 1, { score: 0.2, hard: false, reasons: [] }],
  ];
  for (const [name, verdicts, modelWeight, expected] of cases) {
    it(name, () => {
      const { combined, perScorer } = combineScores(verdicts, { ...D, modelWeight });
      assert.deepEqual(combined, expected);
      assert.deepEqual(Object.keys(perScorer), verdicts.map((v) => v.scorer));
    });
  }

  it("a scorer that fails gives no verdict; the others still count, and the model's are marked", async () => {
    const fixed = (name: string, score: number): Scorer => ({ name, score: (h) => new Map([...h.keys()].map((c) => [c, { score, hard: false, reasons: [] }])) });
    const failing: Scorer = { name: "broken", score: () => Promise.reject(new Error("down")) };
    const model = fixed("model", 0.7);
    const history = new Map<string, readonly ClusterWindowStats[]>([["a", []], ["b", []]]);
    const verdicts = await runScorers([fixed("trend", 0.1), failing, model], model, history);
    assert.deepEqual([...verdicts.keys()], ["a", "b"]);
    assert.deepEqual(verdicts.get("a")!.map((v) => [v.scorer, v.fromModel]), [["trend", false], ["model", true]]);
  });
});

const win = clusterWindow;

const scored = (newest: Partial<ClusterWindowStats>, combined: ScoreResult, over: Partial<ScoredCluster> = {}): ScoredCluster => ({
  history: [win(newest)],
  capacity: { baselineP50Ms: 100, safeRps: 100, kneeRps: Infinity, limitRps: 130 },
  combined,
  perScorer: {},
  recentScores: [0.1, 0.1],
  corroborations: [false, false],
  ...over,
});

describe("what the newest window adds to a cluster's record", () => {
  const calm: ScoreResult = { score: 0.1, hard: false, reasons: [] };
  const risky: ScoreResult = { score: 0.7, hard: false, reasons: ["model"] };
  const hard: ScoreResult = { score: 1, hard: true, reasons: ["error rate"] };
  const cases: [name: string, cluster: ScoredCluster, recentScores: number[], corroborations: boolean[], verdict: { evidence: boolean; anomalous: boolean; hard: boolean; severe: boolean }][] = [
    ["a calm window with evidence adds its score and its (absent) robust signal", scored({}, calm), [0.1, 0.1, 0.1], [false, false, false], { evidence: true, anomalous: false, hard: false, severe: false }],
    ["a risky window with evidence and a robust signal is anomalous and corroborated", scored({ p50Ms: 200 }, risky), [0.1, 0.1, 0.7], [false, false, true], { evidence: true, anomalous: true, hard: false, severe: false }],
    ["a thin risky window cannot raise the risk: nothing is added", scored({ requests: 5 }, risky), [0.1, 0.1], [false, false], { evidence: false, anomalous: false, hard: false, severe: false }],
    ["a thin calm window lowers the risk, but adds no corroboration", scored({ requests: 5 }, calm), [0.1, 0.1, 0.1], [false, false], { evidence: false, anomalous: false, hard: false, severe: false }],
    [
      "a thin window backed by the hard rules' pooled evidence counts as hard, severe at the pooled failure rate",
      scored({ requests: 5, errorRate: 0.2 }, hard, { perScorer: { hard_rules: { ...hard, evidence: { requests: 40, errorRate: 0.6, windows: 4 } } } }),
      [0.1, 0.1],
      [false, false],
      { evidence: true, anomalous: false, hard: true, severe: true },
    ],
    [
      "a hard window where most requests were slower than the latency objective is severe, though none failed",
      scored({ requests: 100, errorRate: 0, slowRequests: 60 }, hard),
      [0.1, 0.1, 1],
      [false, false, false],
      { evidence: true, anomalous: true, hard: true, severe: true },
    ],
    [
      "failed and slow requests add up to the severe share",
      scored({ requests: 100, errorRate: 0.2, slowRequests: 30 }, hard),
      [0.1, 0.1, 1],
      [false, false, true],
      { evidence: true, anomalous: true, hard: true, severe: true },
    ],
    [
      "slow requests under the severe share leave a hard window not severe",
      scored({ requests: 100, errorRate: 0, slowRequests: 40 }, hard),
      [0.1, 0.1, 1],
      [false, false, false],
      { evidence: true, anomalous: true, hard: true, severe: false },
    ],
    [
      "a thin window's slow requests are not severe: its share rests on too few requests",
      scored({ requests: 5, errorRate: 0, slowRequests: 5 }, hard, { perScorer: { hard_rules: { ...hard, evidence: { requests: 40, errorRate: 0, windows: 4 } } } }),
      [0.1, 0.1],
      [false, false],
      { evidence: true, anomalous: false, hard: true, severe: false },
    ],
    [
      "slow requests without a hard verdict are not severe",
      scored({ requests: 100, errorRate: 0, slowRequests: 90 }, calm),
      [0.1, 0.1, 0.1],
      [false, false, false],
      { evidence: true, anomalous: false, hard: false, severe: false },
    ],
    ["the record keeps the last M", scored({}, calm, { recentScores: [1, 2, 3, 4, 5], corroborations: [true, true, true, true, true] }), [2, 3, 4, 5, 0.1], [true, true, true, true, false], { evidence: true, anomalous: false, hard: false, severe: false }],
  ];
  for (const [name, cluster, recentScores, corroborations, expected] of cases) {
    it(name, () => {
      const before = [[...cluster.recentScores], [...cluster.corroborations]];
      const record = recordNewestWindow(cluster, DEFAULT_CONFIG)!;
      assert.deepEqual(record.recentScores, recentScores);
      assert.deepEqual(record.corroborations, corroborations);
      assert.deepEqual(record.verdict, { windowStartMs: 1_000_000, ...expected });
      assert.deepEqual([cluster.recentScores, cluster.corroborations], before, "the record passed in is not changed");
    });
  }

  it("a cluster without windows adds nothing", () => assert.equal(recordNewestWindow({ ...scored({}, calm), history: [] }, DEFAULT_CONFIG), undefined));
});
