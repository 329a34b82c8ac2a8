// The forecast calibration (sim/forecast-calibration.ts): each closed cluster's load–response
// model is paired with the window `lag` windows later, at the load that window got; windows too
// thin to judge, rounds without a new window and clusters not closed add nothing; the summary
// weighs rows by their requests, counts the shortfall only where a cluster went bad, and counts
// each predictor's calls of trouble that came and that did not (false alarms), the anomaly
// model's alarm among them when the run had the model.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ForecastRecorder, summariseForecasts, forecastMarkdown, type ForecastRow, type ForecastStatus } from "../sim/forecast-calibration.js";
import type { BreakerState, CapacityEstimate, ClusterWindowStats } from "../control-plane/src/core/types.js";
import { clusterWindow } from "./cluster-window.js";

const CAPACITY: CapacityEstimate = { baselineP50Ms: 100, safeRps: 100, kneeRps: Infinity, limitRps: 130 };
const CLOSED: BreakerState = { kind: "closed", since: 0 };
const OPEN: BreakerState = { kind: "open", since: 0, until: 1, reason: "test", openings: 1 };

/** Window i of a run: one second long, calm at 100 rps unless `over` says otherwise. */
function win(i: number, over: Partial<ClusterWindowStats> = {}): ClusterWindowStats {
  return clusterWindow({ windowStartMs: 1_000_000 + i * 1000, ...over });
}

/** Statuses of one cluster after each round, its windows so far as `recent`. */
function rounds(windows: ClusterWindowStats[], states: BreakerState[] = windows.map(() => CLOSED)): ForecastStatus[][] {
  return windows.map((_, i) => [{ cluster: "a", state: states[i]!, capacity: CAPACITY, recent: windows.slice(0, i + 1) }]);
}

function record(statusRounds: ForecastStatus[][], lag = 2, minRequests = 20): readonly ForecastRow[] {
  const recorder = new ForecastRecorder(lag, minRequests);
  for (const r of statusRounds) recorder.observe(r);
  return recorder.rows();
}

test("the recorder pairs each prediction with the window lag windows later, at the load that window got", () => {
  // Window 2 carries half again the load and 30 of its 150 requests fail.
  const windows = [win(0), win(1), win(2, { requests: 150, rps: 150, errorRate: 0.2, errors5xx: 30 })];
  const rows = record(rounds(windows));
  assert.equal(rows.length, 1);
  const row = rows[0]!;
  assert.equal(row.cluster, "a");
  assert.equal(row.loadRatio, 1.5);
  assert.equal(row.requests, 150);
  assert.equal(row.observed, 0.2);
  assert.equal(row.now, 0);
  // At 150 rps, 20 rps beyond the 130 it is trusted with count bad (load-response.ts): 20 / 150.
  assert.ok(Math.abs(row.predicted.load_response - 20 / 150) < 1e-12, `load_response ${row.predicted.load_response}`);
  assert.equal(row.predicted.persistence, 0);
});

test("what adds no row to the calibration", async (t) => {
  const cases: Array<{ name: string; statuses: ForecastStatus[][]; lag?: number; expected: number }> = [
    { name: "a round without a new window (the lag counts windows, not rounds)", statuses: [...rounds([win(0)]), ...rounds([win(0)]), ...rounds([win(0), win(1)]).slice(1)], expected: 0 },
    { name: "an outcome window with fewer requests than the least judged", statuses: rounds([win(0), win(1), win(2, { requests: 10, rps: 10 })]), expected: 0 },
    { name: "a cluster that was open when the prediction would have been made", statuses: rounds([win(0), win(1), win(2)], [OPEN, CLOSED, CLOSED]), expected: 0 },
    { name: "nothing, when the cluster was closed: one row per window past the lag", statuses: rounds([win(0), win(1), win(2), win(3)], [OPEN, CLOSED, CLOSED, CLOSED]), expected: 1 },
    { name: "nothing, with a lag of one window", statuses: rounds([win(0), win(1), win(2)]), lag: 1, expected: 2 },
  ];
  for (const c of cases) {
    await t.test(c.name, () => assert.equal(record(c.statuses, c.lag).length, c.expected));
  }
});

test("a lag under one window or a least count under one request is refused, naming it", () => {
  assert.throws(() => new ForecastRecorder(0, 20), /lagWindows: expected a whole number of at least 1, got 0/);
  assert.throws(() => new ForecastRecorder(2, 0), /minRequests: expected at least 1, got 0/);
});

function row(over: Partial<ForecastRow> & { load_response: number; persistence: number }): ForecastRow {
  return { cluster: "a", loadRatio: 1, requests: 100, observed: 0, now: 0, ...over, predicted: { load_response: over.load_response, persistence: over.persistence } };
}

test("the summary weighs rows by their requests and bands them by load ratio and by prediction", () => {
  const rows = [
    row({ loadRatio: 1, requests: 100, observed: 0.01, load_response: 0.02, persistence: 0.01 }),
    row({ loadRatio: 1.05, requests: 300, observed: 0.03, load_response: 0.02, persistence: 0.01 }),
    row({ loadRatio: 1.2, requests: 200, observed: 0.01, load_response: 0.15, persistence: 0 }),
  ];
  const s = summariseForecasts(rows);
  assert.equal(s.rows, 3);
  assert.deepEqual(s.byLoadRatio.map((b) => [b.label, b.rows, b.requests]), [["0.9–1.1", 2, 400], ["1.1–1.3", 1, 200]]);
  const steady = s.byLoadRatio[0]!;
  assert.ok(Math.abs(steady.observed - (100 * 0.01 + 300 * 0.03) / 400) < 1e-12);
  assert.ok(Math.abs(steady.predictors.load_response.mae - (100 * 0.01 + 300 * 0.01) / 400) < 1e-12);
  assert.ok(Math.abs(steady.predictors.persistence.bias - (100 * 0 + 300 * -0.02) / 400) < 1e-12);
  assert.equal(steady.observedP99, 0.03);
  // Only the row taking more load is banded by prediction, in the 10–20 % band.
  assert.deepEqual(s.byPredictionUnderMoreLoad.map((b) => [b.label, b.rows]), [["10 %–20 %", 1]]);
  assert.equal(s.trouble.rows, 0);
  assert.match(forecastMarkdown(s), /\| 1\.1–1\.3 \| 1 \| 1 % \| 1 % \| 15 % \/ 14 % \/ \+14 % \| 0 % \/ 1 % \/ −1 % \|/);
});

test("the shortfall counts only outcomes where the cluster went bad, and only what the prediction fell short", async (t) => {
  const cases: Array<{ name: string; rows: ForecastRow[]; troubleRows: number; loadResponse: number; persistence: number; caught?: number; falseAlarms?: number }> = [
    { name: "a cluster at its usual bad level is no trouble however bad", rows: [row({ observed: 0.3, now: 0.28, load_response: 0, persistence: 0.28 })], troubleRows: 0, loadResponse: 0, persistence: 0 },
    { name: "a rise to under a tenth is no trouble", rows: [row({ observed: 0.08, now: 0, load_response: 0, persistence: 0 })], troubleRows: 0, loadResponse: 0, persistence: 0 },
    {
      name: "a rise to a fifth, predicted over and under",
      rows: [row({ observed: 0.2, now: 0, load_response: 0.25, persistence: 0 }), row({ observed: 0.4, now: 0.1, requests: 300, load_response: 0.3, persistence: 0.1 })],
      troubleRows: 2,
      loadResponse: (100 * 0 + 300 * 0.1) / 400,
      persistence: (100 * 0.2 + 300 * 0.3) / 400,
      caught: 2,
      falseAlarms: 0,
    },
    { name: "trouble predicted where none came is a false alarm, not a catch", rows: [row({ observed: 0.01, now: 0, load_response: 0.15, persistence: 0 })], troubleRows: 0, loadResponse: 0, persistence: 0, caught: 0, falseAlarms: 1 },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const s = summariseForecasts(c.rows);
      assert.equal(s.trouble.rows, c.troubleRows);
      if (c.caught !== undefined) assert.equal(s.trouble.caught.load_response, c.caught);
      if (c.falseAlarms !== undefined) assert.equal(s.trouble.falseAlarms.load_response, c.falseAlarms);
      assert.equal(s.trouble.caught.persistence + s.trouble.falseAlarms.persistence, 0, "persistence never predicts a rise");
      assert.ok(Math.abs(s.trouble.shortfall.load_response - c.loadResponse) < 1e-12, `load_response ${s.trouble.shortfall.load_response}`);
      assert.ok(Math.abs(s.trouble.shortfall.persistence - c.persistence) < 1e-12, `persistence ${s.trouble.shortfall.persistence}`);
    });
  }
});

test("the model's risk at prediction time is kept when the run has the model, and its alarm is scored as a caller", () => {
  const windows = [win(0), win(1), win(2, { requests: 100, errorRate: 0.3, errors5xx: 30 })];
  const statuses = rounds(windows).map((r, i) => r.map((st) => ({ ...st, scorers: { "onnx-model": { score: [0.7, 0.2, 0.1][i]!, hard: false, reasons: [] } } })));
  const rows = record(statuses);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.modelRisk, 0.7, "the risk of the round the prediction was made in");
  assert.equal(record(rounds(windows))[0]!.modelRisk, undefined, "no model, no risk");
});

test("the model's alarm calls trouble at its threshold; without the model's risk on every row it is not scored", async (t) => {
  const withRisk = (risk: number | undefined, observed: number) => ({ ...row({ observed, now: 0, load_response: 0, persistence: 0 }), ...(risk === undefined ? {} : { modelRisk: risk }) });
  const cases: Array<{ name: string; rows: ForecastRow[]; threshold?: number; model: { caught: number; falseAlarms: number } | undefined }> = [
    { name: "an alarm before trouble is caught, one before calm a false alarm", rows: [withRisk(0.9, 0.3), withRisk(0.6, 0.0), withRisk(0.1, 0.2)], model: { caught: 1, falseAlarms: 1 } },
    { name: "the threshold is the model's own", rows: [withRisk(0.6, 0.3)], threshold: 0.7, model: { caught: 0, falseAlarms: 0 } },
    { name: "a row without the model's risk: not scored", rows: [withRisk(0.9, 0.3), withRisk(undefined, 0.3)], model: undefined },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const m = summariseForecasts(c.rows, c.threshold).trouble.model;
      assert.deepEqual(m === undefined ? undefined : { caught: m.caught, falseAlarms: m.falseAlarms }, c.model);
    });
  }
});
