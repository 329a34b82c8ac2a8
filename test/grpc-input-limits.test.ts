// No single sidecar stream can grow the control plane's memory, audit log or log without bound:
// Hello strings are bounded (refused over the bound), NACK reasons are truncated, repeated NACKs
// are recorded once per stream and version, and NACKs are rate-limited per stream.
import { strict as assert } from "node:assert";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { pino } from "pino";
import { SidecarMessageSchema, TelemetryReportSchema } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { AuditLog } from "../control-plane/src/audit/audit-log.js";
import { readAudit } from "../control-plane/src/audit/reader.js";
import type { NackEvent } from "../control-plane/src/core/types.js";
import { GRPC_STATUS } from "../control-plane/src/grpc/status.js";
import { ControlPlane } from "../control-plane/src/service.js";

const T0 = 1_700_000_000_000;
const MiB = 1024 * 1024;

/** The Hello fields these tests vary. */
interface HelloFields {
  nodeId?: string;
  zone?: string;
  filterVersion?: string;
  clusters?: string[];
}

/** A logger whose JSON lines are kept in `lines`. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: "info" }, sink), lines };
}

function harness(audit?: AuditLog) {
  let now = T0;
  const { logger, lines } = capturingLogger();
  const cp = new ControlPlane({
    clusters: [{ name: "a", baseWeight: 1 }],
    slo: { latencyMs: 1000, successRate: 0.99 },
    now: () => now,
    logger,
    ...(audit === undefined ? {} : { audit }),
  });
  const nacks: NackEvent[] = [];
  cp.on("nack", (n) => nacks.push(n));
  const open = (hello: HelloFields) => {
    const closes: [number, string][] = [];
    const stream = cp.openInProcessStream({}, { onMessage: () => undefined, onClose: (code, details) => closes.push([code, details]) });
    stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "hello", value: { nodeId: "n1", zone: "z", clusters: ["a"], ...hello } } })));
    const nack = (version: number, reason: string) =>
      stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "nack", value: { version: BigInt(version), reason, enforcedVersion: 1n } } })));
    return { stream, closes, nack };
  };
  return { cp, open, nacks, lines, advance: (ms: number) => (now += ms) };
}

async function withAudit(body: (audit: AuditLog, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-limits-"));
  const audit = await AuditLog.open({ dir, fsync: false, logger: pino({ level: "silent" }) });
  try {
    await body(audit, dir);
  } finally {
    await audit.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function nackRecords(dir: string) {
  const out = [];
  for await (const r of readAudit(dir, { kinds: ["nack"] })) out.push(r);
  return out;
}

describe("bounded input from sidecars", () => {
  const big = (n: number) => "x".repeat(n);
  const hellos: [name: string, hello: HelloFields, message: RegExp][] = [
    ["a 3 MiB node_id", { nodeId: big(3 * MiB) }, /hello\.node_id: 3145728 characters exceed the limit of 512/],
    ["a 1 MiB zone", { zone: big(MiB) }, /hello\.zone: 1048576 characters exceed the limit of 128/],
    ["a 1 MiB filter_version", { filterVersion: big(MiB) }, /hello\.filter_version: .* exceed the limit of 128/],
    ["5000 cluster names", { clusters: Array.from({ length: 5000 }, (_, i) => `c${i}`) }, /hello\.clusters: 5000 entries exceed the limit of 1024/],
    ["a 64 KiB cluster name", { clusters: ["a", big(65536)] }, /hello\.clusters\[1\]: 65536 characters exceed the limit of 512/],
  ];
  for (const [name, hello, message] of hellos) {
    it(`a hello with ${name} is refused with INVALID_ARGUMENT naming the field, and nothing of it is kept`, () => {
      const h = harness();
      const s = h.open(hello);
      assert.equal(s.closes[0]?.[0], GRPC_STATUS.INVALID_ARGUMENT);
      assert.match(s.closes[0]![1], message);
      assert.equal(h.cp.sidecarStatuses().length, 0);
    });
  }

  it("a hello within the bounds (a long Istio node id) is accepted", () => {
    const h = harness();
    const s = h.open({ nodeId: `sidecar~10.1.2.3~${big(200)}.ns~ns.svc.cluster.local`, filterVersion: "0.9.0+abcdef" });
    assert.equal(s.closes.length, 0);
    assert.equal(h.cp.sidecarStatuses().length, 1);
  });

  it("a report with more cluster entries than the bound closes the stream with INVALID_ARGUMENT", () => {
    const h = harness();
    const s = h.open({});
    const clusters = Array.from({ length: 2000 }, (_, i) => ({ cluster: `unknown-${i}` }));
    const report = create(TelemetryReportSchema, { windowStartMs: BigInt(T0 - 1000), windowLengthMs: 1000, sequence: 1n, clusters });
    s.stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "report", value: report } })));
    assert.equal(s.closes[0]?.[0], GRPC_STATUS.INVALID_ARGUMENT);
    assert.match(s.closes[0]![1], /report\.clusters: 2000 entries exceed the limit of 1024/);
  });

  it("a 1 MiB NACK reason is stored truncated, with a marker, in the status, the event, the log and the audit log", () =>
    withAudit(async (audit, dir) => {
      const h = harness(audit);
      const s = h.open({});
      s.nack(1, `clusters[0].weight: ${big(MiB)}`);
      const status = h.cp.sidecarStatuses()[0]!;
      assert.ok(status.rejectReason.length < 1100, `status reason of ${status.rejectReason.length} characters`);
      assert.match(status.rejectReason, /^clusters\[0\]\.weight: x+… \[truncated, 1048596 characters\]$/);
      assert.equal(h.nacks[0]!.reason, status.rejectReason);
      const logged = h.lines.filter((l) => l.msg === "sidecar rejected a decision set");
      assert.equal(logged.length, 1);
      assert.equal(logged[0]!.reason, status.rejectReason);
      await audit.flush();
      const records = await nackRecords(dir);
      assert.equal(records.length, 1);
      assert.ok(JSON.stringify(records[0]).length < 2048, "the audit record is small");
    }));

  it("1000 identical NACKs produce one audit record and one log line; the count of the others travels with the next record", () =>
    withAudit(async (audit, dir) => {
      const h = harness(audit);
      const s = h.open({});
      for (let i = 0; i < 1000; i++) s.nack(1, "clusters[0].weight: too big");
      assert.equal(h.nacks.length, 1);
      assert.equal(h.lines.filter((l) => l.msg === "sidecar rejected a decision set").length, 1);
      assert.equal(h.cp.sidecarStatuses()[0]!.rejectedVersion, 1);
      await audit.flush();
      assert.equal((await nackRecords(dir)).length, 1);
      s.nack(2, "clusters[0].weight: too big");
      assert.equal(h.nacks.length, 2);
      assert.equal(h.nacks[1]!.suppressed, 999);
    }));

  it("NACKs of ever new versions are rate-limited per stream: a burst of 5 records, then one per 10 s", () => {
    const h = harness();
    const s = h.open({});
    for (let v = 1; v <= 1000; v++) s.nack(v, "made up");
    assert.equal(h.nacks.length, 5);
    h.advance(10_000);
    s.nack(5000, "made up");
    assert.equal(h.nacks.length, 6);
    assert.equal(h.nacks[5]!.suppressed, 995);
    assert.equal(h.cp.sidecarStatuses()[0]!.rejectedVersion, 5000, "the status shows the latest NACK");
  });

  it("another stream's NACK of the same version is recorded too", () => {
    const h = harness();
    const one = h.open({ nodeId: "n1" });
    const two = h.open({ nodeId: "n2" });
    one.nack(1, "r");
    two.nack(1, "r");
    assert.deepEqual(h.nacks.map((n) => n.nodeId), ["n1", "n2"]);
  });
});
