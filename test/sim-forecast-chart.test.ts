// The forecast benchmark's chart (sim/forecast-chart.ts): a point per prediction band and
// predictor, placed on log scales (observed above predicted: above the diagonal), and a bar per
// caller of trouble, the model's alarm among them only when the run had the model.
import { test } from "node:test";
import assert from "node:assert/strict";
import { forecastChart } from "../sim/forecast-chart.js";
import { summariseForecasts, type ForecastRow } from "../sim/forecast-calibration.js";

function row(over: Partial<ForecastRow> & { load_response: number; persistence: number }): ForecastRow {
  return { cluster: "a", loadRatio: 1.2, requests: 100, observed: 0.01, now: 0, ...over, predicted: { load_response: over.load_response, persistence: over.persistence } };
}

/** The circles' centres, in the order drawn. */
function points(svg: string): Array<{ x: number; y: number }> {
  return [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)" r="[\d.]+" fill="[^"]+" fill-opacity/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]) }));
}

test("each band of the prediction is a point per predictor, on log scales", () => {
  // Pessimistic: 15 % predicted, 1 % observed; persistence: 0.1 %… on the axis.
  const svg = forecastChart(summariseForecasts([row({ load_response: 0.15, persistence: 0.001, observed: 0.01 })]), "t");
  const [lr, persistence] = points(svg);
  assert.ok(lr !== undefined && persistence !== undefined, svg);
  assert.equal(lr.y, persistence.y, "both at the observed mean");
  assert.ok(lr.x > persistence.x, "15 % lies right of 0.1 %");
  // log10(0.15 / 0.001) of the three decades to 100 %: 0.725 of the plot's 380 px from its left edge at 90.
  assert.ok(Math.abs(lr.x - (90 + (Math.log10(0.15 / 0.001) / 3) * 380)) < 0.01, `x ${lr.x}`);
  assert.match(svg, /<title>load_response, band 10 %–20 %: predicted 15 %, observed 1 %/);
});

test("the callers of trouble are a bar each, the model's alarm only with the model's risk", async (t) => {
  const trouble = row({ load_response: 0.3, persistence: 0, observed: 0.4, loadRatio: 1 });
  const cases = [
    { name: "without the model", rows: [trouble], model: false },
    { name: "with the model", rows: [{ ...trouble, modelRisk: 0.9 }], model: true },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const svg = forecastChart(summariseForecasts(c.rows), "t");
      assert.match(svg, /load_response<\/text>[\s\S]*called 1 of 1 \(100 %\); false alarms 0/);
      assert.match(svg, /persistence<\/text>[\s\S]*called 0 of 1 \(0 %\)/);
      assert.equal(/model alarm \(risk ≥ 0\.5\)/.test(svg), c.model);
    });
  }
});
