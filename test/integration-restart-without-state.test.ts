// A control plane restarted without its state (a new, empty audit directory) and with its clock
// an hour behind, in front of the real filter (build/filter.wasm) in the project's host: the
// filter enforces a version of the old control plane, and must accept the new one's decisions,
// so a halt issued on the new control plane stops traffic (issue: safety rails, defect 1).
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { ManualClock, PluginTester, type GrpcRequest, type InProcessPeer } from "../filter/host/index.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { createLogger } from "../lib/log.js";
import { traffic } from "./filter-support.js";

const WASM = "build/filter.wasm";
const logger = createLogger("test", "silent");
const FILTER_CONFIG = {
  node_id: "sidecar-restart",
  zone: "zone-a",
  window_ms: 1000,
  control_plane: { cluster: "autoglm-control-plane", timeout_ms: 5000, reconnect_base_ms: 200, reconnect_max_ms: 1000 },
  clusters: [
    { name: "llm-a", weight: 50 },
    { name: "llm-b", weight: 50 },
  ],
};

function newControlPlane(now: () => number): ControlPlane {
  return new ControlPlane({
    clusters: [
      { name: "llm-a", baseWeight: 50 },
      { name: "llm-b", baseWeight: 50 },
    ],
    slo: { latencyMs: 2000, successRate: 0.99 },
    now,
    random: () => 0.5,
    logger,
  });
}

describe("a control plane restarted without its state", () => {
  it("is followed by a sidecar that enforces a newer version of its predecessor: its halt stops traffic", async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    let cp: ControlPlane | undefined = newControlPlane(() => clock.now());
    const acceptor = (req: GrpcRequest, toSidecar: InProcessPeer) =>
      cp === undefined || req.cluster !== "autoglm-control-plane" ? null : cp.openInProcessStream(Object.fromEntries(req.metadata), toSidecar);
    const t = await PluginTester.start({ wasm: WASM, configuration: FILTER_CONFIG, clock, workers: 1, logLevel: "error", grpc: acceptor });
    const tick = async () => {
      traffic(t, 10);
      t.advance(1000);
      await new Promise<void>((resolve) => setImmediate(resolve));
    };
    const until = async (cond: () => boolean, what: string, limit = 60) => {
      for (let i = 0; i < limit; i++) {
        if (cond()) return;
        await tick();
      }
      assert.fail(`never happened: ${what}`);
    };
    try {
      // The first control plane cuts llm-b by an override; the filter enforces that version.
      const first = cp;
      const cut = await first.setOverride({ cluster: "llm-b", state: "open", reason: "maintenance", actor: "test" });
      await until(() => first.sidecarStatuses()[0]?.ackedVersion === cut.version, "the filter acks the first control plane's cut");
      assert.deepEqual(traffic(t, 20), { "llm-a": 20 });

      // It dies; a new one starts with no state and a clock an hour behind.
      await first.stop();
      cp = newControlPlane(() => clock.now() - 3_600_000);
      const second = cp;
      await until(() => second.sidecarStatuses().length === 1, "the filter reconnects");
      const halted = await second.halt("incident drill", "test");
      await until(() => traffic(t, 1)["local:halted"] === 1, "the filter enforces the new control plane's halt");
      assert.deepEqual(traffic(t, 20), { "local:halted": 20 });
      assert.ok(halted.version > cut.version, `the halt's version ${halted.version} exceeds the old ${cut.version}`);
      const status = second.sidecarStatuses()[0]!;
      assert.equal(status.refusing, false, `the sidecar refuses: ${status.rejectReason}`);
    } finally {
      t.close();
      await cp?.stop();
    }
  });
});
