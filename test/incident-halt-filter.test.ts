// A halt end to end: the real filter (build/filter.wasm, two worker VMs) in the project's
// proxy-wasm host in front of the real control plane on virtual time, plus one sidecar stream
// that says hello and never acknowledges anything. The halt is confirmed by the filter's
// workers (each acknowledges the halting version), the silent one is listed as unconfirmed, the
// incident counts the requests the filter refused, ends on resume, and survives a restart (audit
// log). An immediate halt is confirmed by the filter's workers (their hello names
// "halt_immediate").
import { strict as assert } from "node:assert";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { ManualClock, PluginTester, type GrpcRequest, type InProcessPeer } from "../filter/host/index.js";
import { SidecarMessageSchema } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { AuditLog } from "../control-plane/src/audit/audit-log.js";
import { ControlPlane, type InProcessStream } from "../control-plane/src/service.js";
import { downtimeReport } from "../control-plane/src/core/incidents/index.js";
import { createLogger } from "../lib/log.js";
import { traffic } from "./filter-support.js";

const WASM = "build/filter.wasm";
const logger = createLogger("test", "silent");
const FILTER_CONFIG = {
  node_id: "sidecar-halt",
  zone: "zone-a",
  window_ms: 1000,
  control_plane: { cluster: "autoglm-control-plane", timeout_ms: 5000, reconnect_base_ms: 200, reconnect_max_ms: 1000 },
  clusters: [
    { name: "llm-a", weight: 50 },
    { name: "llm-b", weight: 50 },
  ],
};

function newControlPlane(now: () => number, audit: AuditLog): ControlPlane {
  return new ControlPlane({
    clusters: [
      { name: "llm-a", baseWeight: 50 },
      { name: "llm-b", baseWeight: 50 },
    ],
    slo: { latencyMs: 2000, successRate: 0.99 },
    now,
    random: () => 0.5,
    logger,
    audit,
    haltConfirmWaitMs: 10_000,
  });
}

/** A sidecar of some other build: says hello, then stays silent (never acknowledges). */
function silentSidecar(cp: ControlPlane): InProcessStream {
  const stream = cp.openInProcessStream({}, { onMessage: () => undefined, onClose: () => undefined });
  stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "hello", value: { nodeId: "sidecar-silent", workerId: 0, clusters: ["llm-a"] } } })));
  return stream;
}

test("a halt is confirmed by the filter's workers, a silent sidecar is named unconfirmed, and the incident counts the refused requests and survives a restart", async () => {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-incident-"));
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  let cp = newControlPlane(() => clock.now(), await AuditLog.open({ dir, logger, fsync: false }));
  const acceptor = (req: GrpcRequest, toSidecar: InProcessPeer) =>
    req.cluster !== "autoglm-control-plane" ? null : cp.openInProcessStream(Object.fromEntries(req.metadata), toSidecar);
  const t = await PluginTester.start({ wasm: WASM, configuration: FILTER_CONFIG, clock, workers: 2, logLevel: "error", grpc: acceptor });
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  const tick = async () => {
    t.advance(1000);
    await settle();
    await cp.decide();
  };
  const until = async (cond: () => boolean, what: string) => {
    for (let i = 0; i < 60; i++) {
      if (cond()) return;
      await tick();
    }
    assert.fail(`never happened: ${what}`);
  };
  try {
    await until(() => cp.sidecarStatuses().length === 2 && cp.sidecarStatuses().every((s) => s.ackedVersion === cp.currentDecisions().version), "both workers connect and acknowledge");
    const silent = silentSidecar(cp);
    assert.deepEqual(cp.haltStatus(), { halted: false });

    const startedAtMs = clock.now();
    const halted = await cp.halt("runaway generation", "ops");
    await settle();
    const status = cp.haltStatus();
    assert.ok(status.halted);
    assert.equal(status.mode, "drain");
    assert.equal(status.version, halted.version);
    assert.deepEqual(status.confirmation.confirmed.map((c) => [c.node_id, c.worker_id]), [["sidecar-halt", 0], ["sidecar-halt", 1]]);
    assert.deepEqual(status.confirmation.waiting.map((c) => c.node_id), ["sidecar-silent"]);
    assert.equal(status.confirmation.state, "waiting");
    // The caller's wait (real time) ends: the silent sidecar is named unconfirmed.
    const waited = await cp.awaitHaltConfirmation(20);
    assert.ok(waited.halted);
    assert.equal(waited.confirmation.state, "unconfirmed");
    assert.deepEqual(waited.confirmation.unconfirmed.map((c) => c.node_id), ["sidecar-silent"]);
    assert.equal(cp.incidentList()[0]?.confirmedAtMs, undefined, "not confirmed while a connected sidecar has not acknowledged");

    // The filter refuses new requests; its reports carry the local rejects.
    assert.deepEqual(traffic(t, 30, { worker: 0 }), { "local:halted": 30 });
    assert.deepEqual(traffic(t, 12, { worker: 1 }), { "local:halted": 12 });
    // The silent sidecar goes away: every connected worker has confirmed.
    silent.close();
    const confirmedAtMs = clock.now();
    const afterLeaving = cp.haltStatus();
    assert.equal(afterLeaving.halted && afterLeaving.confirmation.state, "confirmed");
    await tick();
    await tick();

    const resumeAtMs = clock.now();
    await cp.resume("fixed", "ops-2");
    const [incident] = cp.incidentList();
    assert.ok(incident !== undefined);
    const report = downtimeReport(incident, clock.now());
    assert.equal(report.kind, "halt");
    assert.equal(report.started_by, "ops");
    assert.equal(report.started_at_ms, startedAtMs);
    assert.equal(report.confirmed_at_ms, startedAtMs, "the workers acknowledged at once (virtual time did not move)");
    assert.ok(confirmedAtMs >= report.confirmed_at_ms!);
    assert.equal(report.ended_at_ms, resumeAtMs);
    assert.equal(report.ended_by, "ops-2");
    assert.equal(report.duration_ms, resumeAtMs - startedAtMs);
    assert.equal(report.rejected_total, 42, "every request the filter refused while halted");
    assert.deepEqual(report.confirmations.map((c) => c.worker_id), [0, 1]);
    assert.deepEqual(traffic(t, 10, { worker: 0 })["local:halted"], undefined, "traffic flows again after the resume");

    // An immediate halt: this filter names "halt_immediate", so its workers confirm it fully (the
    // silent sidecar, whose build does not, has left).
    await cp.halt("cut streams", "ops", "immediate");
    await settle();
    const immediate = cp.haltStatus();
    assert.ok(immediate.halted);
    assert.equal(immediate.mode, "immediate");
    assert.equal(immediate.confirmation.state, "confirmed");
    assert.deepEqual(immediate.confirmation.cannot, []);
    assert.deepEqual(immediate.confirmation.confirmed.map((c) => c.worker_id).sort(), [0, 1]);
    assert.deepEqual(traffic(t, 5, { worker: 1 }), { "local:halted": 5 });

    // A restart: the incidents come back from the audit log.
    await cp.stop();
    const before = cp.incidentList();
    cp = newControlPlane(() => clock.now(), await AuditLog.open({ dir, logger, fsync: false }));
    const after = cp.incidentList();
    assert.equal(after.length, 2);
    assert.deepEqual(after[1], before[1], "the ended incident, with its figures");
    assert.equal(after[0]!.mode, "immediate");
    assert.equal(after[0]!.endedAtMs, undefined, "the immediate halt is still running");
  } finally {
    t.close();
    await cp.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
