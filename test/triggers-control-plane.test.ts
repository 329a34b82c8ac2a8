// Triggers in the control plane on virtual time: sidecars report upstream load (ORCA) and
// latency over in-process streams, the rules fire and clear, their actions reach the decision
// set as overrides and the halt do, every firing is an event, an alert and an audit record, and
// a fired rule survives a restart through the audit log. Also: the hello's capabilities, the
// merged upstream load, and the admission of shed counts.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ControlMessageSchema, SidecarMessageSchema } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { latencyCounts } from "../control-plane/src/core/report-builder.js";
import { admitReport } from "../control-plane/src/core/report-admission.js";
import type { DecisionSet, WorkerReport } from "../control-plane/src/core/types.js";
import type { TriggerEvent, TriggerRule } from "../control-plane/src/core/triggers/index.js";
import { decisionSetFromProto } from "../control-plane/src/grpc/convert.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { applyRecord, parseRecord, type AuditRecord } from "../control-plane/src/audit/records.js";
import { encodeRecord, storedForm } from "../control-plane/src/audit/record-codec.js";
import { csvRows } from "../control-plane/src/admin/audit-export.js";
import { triggerAlert } from "../control-plane/src/alerts/bind.js";
import { createLogger } from "../lib/log.js";
import { restoredStore } from "./support/restored-store.js";
import { p99Rule } from "./support/trigger-rules.js";

const T0 = 1_700_000_000_000;
const logger = createLogger("test", "silent");
/** Halts the mesh after one window with p99 above 5 s; only a human clears it. */
const haltRule = p99Rule({ name: "mesh-p99", scope: "mesh", forMs: 1000, clear: "manual", clearAfterMs: 0 });

interface Load {
  cpu?: [count: number, sum: number, max: number];
}

/** A control plane with `sidecars` in-process sidecars (hello with capabilities) on virtual time. */
function harness(rules: TriggerRule[], sidecars = 1, capabilities: string[] = ["shed", "upstream_load"]) {
  let now = T0;
  const cp = new ControlPlane({
    clusters: [{ name: "a", baseWeight: 50 }, { name: "b", baseWeight: 50 }],
    slo: { latencyMs: 2000, successRate: 0.99 },
    now: () => now,
    random: () => 0.5,
    logger,
    triggers: rules,
  });
  const received: DecisionSet[] = [];
  const events: TriggerEvent[] = [];
  cp.on("trigger", (e) => events.push(e));
  const streams = Array.from({ length: sidecars }, (_, i) => {
    const stream = cp.openInProcessStream({}, {
      onMessage: (bytes) => {
        const m = fromBinary(ControlMessageSchema, bytes);
        if (m.kind.case === "decisions" && i === 0) received.push(decisionSetFromProto(m.kind.value));
      },
      onClose: () => {},
    });
    stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, {
      kind: { case: "hello", value: { nodeId: `node-${i}`, workerId: 0, clusters: ["a", "b"], capabilities: [...capabilities, "from-a-newer-filter"] } },
    })));
    return stream;
  });
  let seq = 0;
  let index = 0;
  /** One 1 s window: every sidecar reports `perCluster` requests of `latencyMs` each, with load per sidecar. */
  const step = async (opts: { latencyMs?: number; load?: (sidecar: number) => Load } = {}) => {
    const start = T0 + index * 1000;
    index++;
    now = start + 1100;
    seq++;
    streams.forEach((stream, i) => {
      const cpu = opts.load?.(i).cpu;
      const cluster = (name: string) => ({
        cluster: name,
        requests: 20,
        totalLatency: latencyCounts(new Array<number>(20).fill(opts.latencyMs ?? 100)),
        ...(name === "a" && cpu !== undefined ? { upstreamLoad: { reports: cpu[0], cpuUtilization: { count: cpu[0], sum: cpu[1], max: cpu[2] } } } : {}),
      });
      const report = {
        windowStartMs: BigInt(start), windowLengthMs: 1000, sequence: BigInt(seq), enforcedVersion: 0n,
        clusters: ["a", "b"].map((n) => {
          const c = cluster(n);
          const h = c.totalLatency;
          return { ...c, totalLatency: { firstBucket: h.firstBucket, counts: [...h.counts], sumUs: BigInt(h.sumUs), maxUs: BigInt(h.maxUs) } };
        }),
      };
      stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "report", value: report } })));
    });
    await cp.decide();
    return cp.currentDecisions();
  };
  return { cp, step, received, events };
}

const cpuRule: TriggerRule = {
  name: "a-cpu",
  condition: { metric: "cpu_utilization", scope: "a", above: 0.95, statistic: "mean" },
  forMs: 2000,
  action: { kind: "shed", fraction: 0.5, cluster: "a" },
  clear: "auto",
  clearAfterMs: 2000,
};

describe("a trigger on the upstreams' load sheds a cluster and clears by itself", () => {
  it("fires after the hold, sheds half of a's requests in the pushed set, then clears after two calm windows", async () => {
    const { cp, step, received, events } = harness([cpuRule]);
    const hot = () => ({ cpu: [10, 9.7, 0.99] as [number, number, number] });
    const calm = () => ({ cpu: [10, 5, 0.6] as [number, number, number] });
    assert.equal((await step({ load: hot })).clusters[0]!.shedFraction, undefined, "one window is not the hold");
    const shed = await step({ load: hot });
    assert.equal(shed.clusters.find((c) => c.cluster === "a")!.shedFraction, 0.5);
    assert.match(shed.clusters.find((c) => c.cluster === "a")!.reason, /trigger a-cpu: cpu_utilization \(mean\) of a 0\.97 > 0\.95 for 2 s/);
    assert.equal(received.at(-1)!.clusters.find((c) => c.cluster === "a")!.shedFraction, Math.fround(0.5), "the sidecar receives it");
    assert.deepEqual(events.map((e) => [e.kind, e.trigger, e.values.value]), [["fired", "a-cpu", 0.97]]);
    const status = cp.triggerStatuses()[0]!;
    assert.equal(status.state.kind, "fired");
    await step({ load: calm });
    assert.equal(cp.currentDecisions().clusters[0]!.shedFraction, 0.5, "one calm window is not enough");
    const cleared = await step({ load: calm });
    assert.equal(cleared.clusters.find((c) => c.cluster === "a")!.shedFraction, undefined);
    assert.deepEqual(events.map((e) => [e.kind, e.clearedBy]), [["fired", undefined], ["cleared", "condition"]]);
  });

  it("its firing opens an incident on cluster a with the values that fired it, ended when the trigger clears by itself", async () => {
    const { cp, step } = harness([cpuRule]);
    const hot = () => ({ cpu: [10, 9.7, 0.99] as [number, number, number] });
    const calm = () => ({ cpu: [10, 5, 0.6] as [number, number, number] });
    await step({ load: hot });
    assert.deepEqual(cp.incidentList(), []);
    const shedSet = await step({ load: hot });
    const [opened] = cp.incidentList();
    assert.deepEqual(
      [opened?.kind, opened?.trigger, opened?.startedBy, opened?.clusters, opened?.version, opened?.values?.value, opened?.endedAtMs],
      ["trigger", "a-cpu", "trigger a-cpu", ["a"], shedSet.version, 0.97, undefined],
    );
    assert.equal(opened?.confirmedAtMs, undefined, "the sidecar has not acknowledged the shedding version");
    await step({ load: calm });
    await step({ load: calm });
    const [ended] = cp.incidentList();
    assert.equal(ended?.endedBy, "condition");
    assert.equal(ended?.endedAtMs, T0 + 3000 + 1100);
  });

  it("the merged window's CPU is the mean over both sidecars' samples, and its max the highest", async () => {
    const { cp, step } = harness([], 2);
    await step({ load: (i) => ({ cpu: i === 0 ? [30, 27, 0.95] : [10, 3, 0.4] }) });
    const w = cp.clusterStatuses().find((s) => s.cluster === "a")!.recent.at(-1)!;
    assert.equal(w.upstreamLoad?.reports, 40);
    assert.ok(Math.abs(w.upstreamLoad!.mean.cpuUtilization! - 0.75) < 1e-12);
    assert.equal(w.upstreamLoad?.max.cpuUtilization, 0.95);
  });

  it("the sidecar's capabilities are the known names of its hello; an older filter's hello names none", () => {
    assert.deepEqual(harness([]).cp.sidecarStatuses()[0]!.capabilities, ["shed", "upstream_load"]);
    assert.deepEqual(harness([], 1, []).cp.sidecarStatuses()[0]!.capabilities, []);
  });
});

describe("a halting trigger that needs a human", () => {
  it("halts the mesh with its values, stays halted while calm, and resumes once cleared by hand", async () => {
    const { cp, step, events } = harness([haltRule]);
    const halted = await step({ latencyMs: 6500 });
    assert.equal(halted.halted, true);
    assert.match(halted.haltReason, /^trigger mesh-p99: p99_ms of the mesh \d+(\.\d+)? > 5000 for 1 s$/);
    for (let i = 0; i < 5; i++) assert.equal((await step()).halted, true, "a manual trigger does not clear by itself");
    await assert.rejects(cp.clearTrigger("nope", "fixed", "alice"), /trigger "nope" is not configured/);
    await assert.rejects(cp.clearTrigger("mesh-p99", " ", "alice"), /reason and actor must be non-empty/);
    const { event, decisions } = await cp.clearTrigger("mesh-p99", "root cause fixed", "alice");
    assert.equal(decisions.halted, false);
    assert.deepEqual([event.kind, event.clearedBy, event.clearReason], ["cleared", "alice", "root cause fixed"]);
    assert.deepEqual(events.map((e) => e.kind), ["fired", "cleared"]);
    const [incident] = cp.incidentList();
    assert.deepEqual([incident?.action, incident?.mode, incident?.endedBy, incident?.endReason], [{ kind: "halt" }, "drain", "alice", "root cause fixed"]);
    await assert.rejects(cp.clearTrigger("mesh-p99", "again", "alice"), /has not fired \(it is idle\)/);
  });

  it("an operator's resume does not lift a trigger's halt", async () => {
    const { cp, step } = harness([haltRule]);
    await step({ latencyMs: 6500 });
    assert.equal((await cp.resume("try", "bob")).halted, true);
  });

  it("the alert says what fired, with which values, and what it does", () => {
    const alert = triggerAlert({ kind: "fired", trigger: "mesh-p99", action: { kind: "halt" }, atMs: 5, values: { value: 6500, peak: 7000, threshold: 5000, heldMs: 1000, reason: "trigger mesh-p99: p99_ms of the mesh 6500 > 5000 for 1 s" } });
    assert.deepEqual([alert.kind, alert.severity, alert.summary], ["trigger_fired", "critical", "trigger mesh-p99: p99_ms of the mesh 6500 > 5000 for 1 s: halt the mesh"]);
    assert.equal(alert.details.peak, 7000);
  });

  it("a source-limiting rule's alert is a warning that says which source, how, and for how long", () => {
    const values = { value: 0.4, peak: 0.4, threshold: 0.3, heldMs: 0, reason: "trigger abuse: error_rate of the mesh 0.4 > 0.3 for 0 s" };
    const cases: [TriggerRule["action"], string][] = [
      [{ kind: "limit_source", deny: false, capPerS: 50, ttlMs: 600_000 }, "cap at 50 requests/s source (the top flagged one) for 600 s"],
      [{ kind: "limit_source", source: "10.0.0.7", deny: true, ttlMs: 60_000 }, "deny source 10.0.0.7 for 60 s"],
    ];
    for (const [action, text] of cases) {
      const alert = triggerAlert({ kind: "fired", trigger: "abuse", action, atMs: 5, values });
      assert.deepEqual([alert.kind, alert.severity, alert.summary], ["trigger_fired", "warning", `${values.reason}: ${text}`]);
    }
  });
});

describe("a trigger that opens a cluster", () => {
  it("holds the cluster open while fired (as an open override does) and hands it back through half-open", async () => {
    const rule = p99Rule({ name: "a-slow", scope: "a", forMs: 1000, action: { kind: "open", cluster: "a" }, clear: "auto", clearAfterMs: 1000 });
    const { cp, step } = harness([rule]);
    const opened = await step({ latencyMs: 6500 });
    assert.deepEqual(opened.clusters.map((c) => c.state), ["open", "closed"]);
    assert.match(opened.clusters[0]!.reason, /^trigger a-slow: /);
    // Open: a gets no traffic, so no p99 of its own: the condition no longer holds and it clears.
    await step();
    assert.equal(cp.triggerStatuses()[0]!.state.kind, "idle");
    const after = await step();
    assert.notEqual(after.clusters[0]!.state, "open", "released to the detectors (half-open probing, then closed)");
  });
});

describe("triggers in the audit log", () => {
  const fired = { value: 6500, peak: 7000, threshold: 5000, heldMs: 1000, reason: "r" };
  const record: AuditRecord = {
    kind: "trigger",
    atMs: 10,
    event: { kind: "fired", trigger: "mesh-p99", action: { kind: "halt" }, atMs: 10, values: fired },
    inForce: [{ name: "mesh-p99", since: 5, firedAtMs: 10, fired }],
  };

  it("a trigger record passes the record schema and restores the triggers in force", () => {
    const parsed = parseRecord(encodeRecord(record));
    assert.ok(parsed.ok);
    assert.deepEqual(applyRecord({ overrides: [] }, parsed.record).triggers, record.inForce);
  });

  it("a damaged trigger record is skipped, naming the field", () => {
    const stored = storedForm(record);
    const parsed = parseRecord(JSON.stringify({ ...stored, event: { ...(stored.event as object), values: { ...fired, held_ms: fired.heldMs, heldMs: undefined, value: "high" } } }));
    assert.deepEqual(parsed.ok ? "" : parsed.error, "trigger.event.values.value: expected a finite number, got a string \"high\"");
  });

  it("a control plane restored with a fired trigger keeps its halt until it is cleared", async () => {
    const cp = new ControlPlane({
      clusters: [{ name: "a", baseWeight: 1 }], slo: { latencyMs: 2000, successRate: 0.99 }, now: () => T0, logger, triggers: [haltRule],
      audit: restoredStore({ overrides: [], triggers: record.inForce }),
    });
    assert.equal(cp.currentDecisions().halted, true, "the first set of the new lifetime is halted already");
    await cp.decide();
    assert.equal(cp.currentDecisions().halted, true);
    assert.equal(cp.triggerStatuses()[0]!.state.kind, "fired");
  });
});

describe("reports with shed counts and upstream load are admitted only when consistent", () => {
  const base = (over: Partial<WorkerReport["clusters"][number]>): WorkerReport => ({
    windowStartMs: T0, windowLengthMs: 1000, sequence: 1, enforcedVersion: 0,
    clusters: [{ cluster: "a", requests: 1, errors5xx: 0, localRejects: 2, timeouts: 0, resets: 0, grpcErrors: 0, totalLatency: latencyCounts([5]), ...over }],
  });
  const limits = { maxClockSkewMs: 5000, lateGraceMs: 3000 };
  const cases: [string, WorkerReport, string | undefined][] = [
    ["shed within the local rejects", base({ shed: 2 }), undefined],
    ["shed above the local rejects", base({ shed: 3 }), "clusters[0] (a).shed: 3 exceeds local_rejects (2)"],
    ["a load sum that is not finite", base({ upstreamLoad: { reports: 1, unparsed: 0, metrics: { queueSize: { count: 1, sum: Number.NaN, max: 1 } } } }), "clusters[0] (a).upstream_load.queue_size: sum NaN and max 1 must be finite"],
  ];
  for (const [name, report, message] of cases) {
    it(`${name}: ${message === undefined ? "admitted" : "refused"}`, () => {
      assert.equal(admitReport(report, T0 + 1500, limits)?.message, message);
    });
  }
});

describe("triggers in the audit export", () => {
  const fired = { value: 0.97, peak: 0.99, threshold: 0.95, heldMs: 10_000, reason: "cpu above 95 %" };
  const cases: { name: string; record: AuditRecord; row: Record<string, unknown> }[] = [
    {
      name: "a shed trigger that fired exports its rule, action, fraction, value and threshold as columns",
      record: { kind: "trigger", atMs: 10, event: { kind: "fired", trigger: "cpu-hot", action: { kind: "shed", fraction: 0.3, cluster: "a" }, atMs: 10, values: fired }, inForce: [] },
      row: { kind: "trigger", cluster: "a", state: "fired", trigger: "cpu-hot", action: "shed", fraction: 0.3, value: 0.97, threshold: 0.95, reason: "cpu above 95 %", actor: undefined },
    },
    {
      name: "a halt trigger cleared by hand exports who cleared it and why, with no cluster",
      record: { kind: "trigger", atMs: 20, event: { kind: "cleared", trigger: "mesh-p99", action: { kind: "halt" }, atMs: 20, values: fired, clearedBy: "ops", clearReason: "fixed" }, inForce: [] },
      row: { kind: "trigger", cluster: undefined, state: "cleared", trigger: "mesh-p99", action: "halt", fraction: undefined, reason: "fixed", actor: "ops" },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const [row] = csvRows(c.record);
      for (const [column, value] of Object.entries(c.row)) assert.equal(row![column as keyof typeof row], value, column);
    });
  }
});
