// How long an open breaker waits before probing while the clusters carrying its share strain
// (control-plane/src/core/strained-wait.ts): once waiting has cost as much as a failed probe.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { excessBadRps, strainedOpenWaitMs, type StrainedWaitInput } from "../control-plane/src/core/strained-wait.js";
import type { LoadResponse } from "../control-plane/src/core/planner/load-response.js";

/** A 1-s window, 200 rps in the mesh, a first probe of 5 % of it: 10 requests. */
const BASE: StrainedWaitInput = { meshRps: 200, windowMs: 1000, probeShare: 0.05, excessBadRps: 0 };

describe("an open breaker's wait while the others strain", () => {
  const cases: Array<{ name: string; input: Partial<StrainedWaitInput>; waitMs: number }> = [
    { name: "the others serve no worse than usual: no bound (the backoff decides)", input: { excessBadRps: 0 }, waitMs: Infinity },
    { name: "2 bad requests a second beyond usual: 5 s, when waiting has cost the 10 a failed probe would", input: { excessBadRps: 2 }, waitMs: 5000 },
    { name: "40 a second: one window, never less (a probe is judged on a window)", input: { excessBadRps: 40 }, waitMs: 1000 },
    { name: "a larger probe share costs more, and is worth a longer wait", input: { excessBadRps: 2, probeShare: 0.1 }, waitMs: 10_000 },
    { name: "longer windows: a probe sends for longer", input: { excessBadRps: 2, windowMs: 5000 }, waitMs: 25_000 },
    { name: "no window length known: no bound", input: { excessBadRps: 2, windowMs: 0 }, waitMs: Infinity },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(strainedOpenWaitMs({ ...BASE, ...c.input }), c.waitMs);
    });
  }
});

/** A cluster at 100 rps with `bad` of 1000 pooled requests bad, usually `usual`. */
function response(bad: number, usual: number | undefined): LoadResponse {
  return {
    loadRps: 100, requests: 1000, bad, badFraction: bad / 1000, faultFraction: 0, safeRps: 100, limitRps: 130, kneeRps: Infinity,
    ...(usual === undefined ? {} : { usualBadFraction: usual }),
  };
}

describe("the bad requests the others serve beyond their usual level", () => {
  const cases: Array<{ name: string; responses: LoadResponse[]; rps: (x: number) => boolean }> = [
    { name: "at their usual level: none", responses: [response(10, 0.01)], rps: (x) => x === 0 },
    { name: "a little above it, within the noise of 1000 requests: none", responses: [response(14, 0.01)], rps: (x) => x === 0 },
    { name: "a fifth of the requests bad against a usual 1 %: about 17 a second (the noise margin taken off)", responses: [response(200, 0.01)], rps: (x) => x > 15 && x < 19 },
    { name: "summed over clusters, each against its own usual level", responses: [response(200, 0.01), response(200, 0.19)], rps: (x) => x > 15 && x < 19 },
    { name: "no usual level learnt yet: counted from zero", responses: [response(200, undefined)], rps: (x) => x > 16 && x < 20 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const x = excessBadRps(c.responses, 2);
      assert.ok(c.rps(x), `excess ${x} bad requests a second`);
    });
  }
});
