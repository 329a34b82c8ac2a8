// Sidecar workers that do not confirm a halt, or the decision version in force, within
// halt.confirm_wait_s are flagged: per worker in GET /v1/sidecars, in the dashboard's banner, and
// as counts in Prometheus (autoglm_halt_unconfirmed_sidecars, autoglm_sidecars_unconfirmed, which
// pass promtool). A real ControlPlane on virtual time, one worker that acknowledges and one that
// says hello and never answers.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Registry } from "prom-client";
import { SidecarMessageSchema } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { buildAdminApp } from "../control-plane/src/admin/app.js";
import type { AdminDeps } from "../control-plane/src/admin/deps.js";
import { versionConfirmation, type VersionConfirmation, type VersionConfirmationInput } from "../control-plane/src/core/halt/index.js";
import { dashboardSnapshot } from "../control-plane/src/dashboard/snapshot.js";
import { ConfirmationMetrics } from "../control-plane/src/metrics/index.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { createLogger } from "../lib/log.js";
import { promtool } from "./promtool.js";
import { connectWorker } from "./support/in-process-sidecar.js";

const T0 = 1_800_000_000_000;
const WAIT_MS = 10_000;
const logger = createLogger("test", "silent");

describe("a worker confirms the version in force within the bound, or is flagged", () => {
  const base: VersionConfirmationInput = { version: 7, publishedAtMs: 1000, connectedAtMs: 500, reachedAtMs: undefined, waitMs: 10_000, nowMs: 5000 };
  const cases: [name: string, over: Partial<VersionConfirmationInput>, expected: VersionConfirmation][] = [
    ["not yet, within the bound from the publication: waiting", {}, { version: 7, state: "waiting", dueAtMs: 11_000 }],
    ["not by the bound: unconfirmed", { nowMs: 11_000 }, { version: 7, state: "unconfirmed", dueAtMs: 11_000 }],
    ["reached it (or a later one): confirmed, with when", { nowMs: 50_000, reachedAtMs: 1200 }, { version: 7, state: "confirmed", dueAtMs: 11_000, confirmedAtMs: 1200 }],
    ["connected after the publication: the bound runs from its connection", { connectedAtMs: 4000, nowMs: 13_000 }, { version: 7, state: "waiting", dueAtMs: 14_000 }],
  ];
  for (const [name, over, expected] of cases) it(name, () => assert.deepEqual(versionConfirmation({ ...base, ...over }), expected));
});

/** A control plane with a worker that acknowledges and one that never answers. */
function harness() {
  const clock = { now: T0 };
  const cp = new ControlPlane({
    clusters: [{ name: "llm-a", baseWeight: 1 }, { name: "llm-b", baseWeight: 1 }],
    slo: { latencyMs: 2000, successRate: 0.99 },
    now: () => clock.now,
    logger,
    haltConfirmWaitMs: WAIT_MS,
  });
  connectWorker(cp, { nodeId: "node-ack", clusters: ["llm-a", "llm-b"], answer: "ack" });
  const silent = cp.openInProcessStream({}, { onMessage: () => {}, onClose: () => {} });
  silent.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "hello", value: { nodeId: "node-silent", workerId: 0, clusters: ["llm-a", "llm-b"] } } })));
  return { clock, cp };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const flags = (cp: ControlPlane) => cp.sidecarStatuses().map((s) => [s.nodeId, s.confirmation?.state]);

describe("workers that do not confirm", () => {
  it("are flagged only once the bound has passed, per worker, by the control plane", async () => {
    const { clock, cp } = harness();
    await tick();
    await cp.halt("incident", "ops");
    await tick();
    assert.deepEqual(flags(cp), [["node-ack", "confirmed"], ["node-silent", "waiting"]]);
    clock.now += WAIT_MS;
    assert.deepEqual(flags(cp), [["node-ack", "confirmed"], ["node-silent", "unconfirmed"]]);
    await cp.stop();
  });

  it("GET /v1/sidecars flags the silent worker as unconfirmed and as not confirming the halt", async () => {
    const { clock, cp } = harness();
    await tick();
    const halted = await cp.halt("incident", "ops");
    await tick();
    clock.now += WAIT_MS;
    const deps: AdminDeps = {
      controlPlane: cp,
      model: { status: () => ({ mode: "rules-only" }), reload: async () => ({ mode: "rules-only" }) },
      readiness: { grpcListening: () => true },
      registry: new Registry(),
      token: "",
      logger,
      now: () => clock.now,
    };
    const app = await buildAdminApp(deps);
    const res = await app.inject({ method: "GET", url: "/v1/sidecars" });
    assert.equal(res.statusCode, 200);
    const rows = (res.json() as { sidecars: { node_id: string; unconfirmed: boolean; halt_unconfirmed: boolean; confirmation: Record<string, unknown> }[] }).sidecars;
    assert.deepEqual(
      rows.map((r) => [r.node_id, r.unconfirmed, r.halt_unconfirmed, r.confirmation.version, r.confirmation.state, r.confirmation.due_at_ms]),
      [
        ["node-ack", false, false, halted.version, "confirmed", T0 + WAIT_MS],
        ["node-silent", true, true, halted.version, "unconfirmed", T0 + WAIT_MS],
      ],
    );
    await app.close();
    await cp.stop();
  });

  it("the dashboard's banner lists the silent worker as unconfirmed, with the version it has not confirmed", async () => {
    const { clock, cp } = harness();
    await tick();
    const halted = await cp.halt("incident", "ops");
    await tick();
    clock.now += WAIT_MS;
    const snap = dashboardSnapshot({ nowMs: clock.now, statuses: cp.clusterStatuses(), decisions: cp.currentDecisions(), sidecars: cp.sidecarStatuses(), gone: [], model: "rules-only" });
    assert.deepEqual(snap.sidecar_alert_counts, { refusing: 0, unconfirmed: 1, gone: 0, back: 0 });
    assert.deepEqual(snap.sidecar_alerts.map((a) => [a.kind, a.node_id, a.reason]), [["unconfirmed", "node-silent", `has not confirmed decision version ${halted.version}, due at ${new Date(T0 + WAIT_MS).toISOString()}`]]);
    await cp.stop();
  });

  it("are counted in Prometheus, the halt's and the version's, and the exposition passes promtool", async () => {
    const { clock, cp } = harness();
    const registry = new Registry();
    new ConfirmationMetrics(registry, cp);
    const value = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(await registry.metrics())?.[1]);
    await tick();
    assert.deepEqual([await value("autoglm_halt_unconfirmed_sidecars"), await value("autoglm_sidecars_unconfirmed")], [0, 0], "nothing is due yet");
    await cp.halt("incident", "ops");
    await tick();
    clock.now += WAIT_MS;
    assert.deepEqual([await value("autoglm_halt_unconfirmed_sidecars"), await value("autoglm_sidecars_unconfirmed"), await value("autoglm_decisions_rolled_back")], [1, 1, 0]);
    const lint = promtool(["check", "metrics"], await registry.metrics());
    assert.equal(lint.status, 0, lint.output);
    await cp.resume("over", "ops");
    assert.equal(await value("autoglm_halt_unconfirmed_sidecars"), 0, "no halt, nothing to confirm");
    await cp.stop();
  });
});
