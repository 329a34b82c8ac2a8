// The host's choice among a cluster's endpoints for a new gRPC stream (filter/host/endpoint-picker.ts):
// round robin, skipping an endpoint whose connection failed or was lost for the ejection time, and
// every endpoint again when all are ejected (Envoy's round robin with outlier detection, panic mode).
import { test } from "node:test";
import assert from "node:assert/strict";
import { EndpointPicker } from "../filter/host/endpoint-picker.js";

const ENDPOINTS = ["a:1", "b:1", "c:1"];

type Step = { pick: number } | { fail: string; at: number } | { ok: string };

const cases: { name: string; first?: number; steps: Step[]; picks: string[] }[] = [
  { name: "streams go to the endpoints in turn", steps: [{ pick: 0 }, { pick: 0 }, { pick: 0 }, { pick: 0 }], picks: ["a:1", "b:1", "c:1", "a:1"] },
  { name: "the turn starts where the client says (sidecars spread over replicas)", first: 2, steps: [{ pick: 0 }, { pick: 0 }], picks: ["c:1", "a:1"] },
  { name: "an endpoint whose connection failed is skipped", steps: [{ fail: "b:1", at: 0 }, { pick: 1 }, { pick: 2 }, { pick: 3 }], picks: ["a:1", "c:1", "a:1"] },
  { name: "a failed endpoint is picked again once its ejection ends", steps: [{ fail: "b:1", at: 0 }, { pick: 29_999 }, { pick: 30_000 }], picks: ["a:1", "b:1"] },
  { name: "an endpoint that answered is no longer skipped", steps: [{ fail: "b:1", at: 0 }, { ok: "b:1" }, { pick: 1 }, { pick: 2 }], picks: ["a:1", "b:1"] },
  {
    name: "with every endpoint ejected, they are still tried in turn",
    steps: [{ fail: "a:1", at: 0 }, { fail: "b:1", at: 0 }, { fail: "c:1", at: 0 }, { pick: 1 }, { pick: 2 }],
    picks: ["a:1", "b:1"],
  },
  { name: "an unknown endpoint's failure changes nothing", steps: [{ fail: "z:1", at: 0 }, { pick: 1 }, { pick: 1 }], picks: ["a:1", "b:1"] },
];

for (const c of cases) {
  test(`endpoint picker: ${c.name}`, () => {
    const picker = new EndpointPicker(ENDPOINTS, 30_000, c.first ?? 0);
    const picks: string[] = [];
    for (const step of c.steps) {
      if ("pick" in step) picks.push(picker.pick(step.pick));
      else if ("fail" in step) picker.failed(step.fail, step.at);
      else picker.succeeded(step.ok);
    }
    assert.deepEqual(picks, c.picks);
  });
}

test("endpoint picker: a cluster without endpoints is refused, naming why", () => {
  assert.throws(() => new EndpointPicker([]), /at least one endpoint/);
});
