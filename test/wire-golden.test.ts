import { test, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fromBinary, fromJson, toBinary, toJson, clone, type DescMessage, type JsonValue } from "@bufbuild/protobuf";
import {
  ControlMessageSchema,
  HaltMode,
  SidecarMessageSchema,
  type ControlMessage,
  type DecisionSet,
  type LatencyHistogram,
  type LoadMetric,
  type SidecarMessage,
  type StreamWindow,
  type UpstreamLoad,
} from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { GOLDEN_DIR, buildGoldenVectors, buildInvalidVectors, type InvalidVector } from "../scripts/golden.js";
import { fromDense, toDense } from "../lib/histogram.js";
import { loadWireHarness, toArrayBuffer, type WireHarness } from "./golden/as-harness.js";

interface GoldenFile {
  name: string;
  description: string;
  type: "autoglm.v1.SidecarMessage" | "autoglm.v1.ControlMessage";
  binary: string;
  unknownFields: boolean;
  json: JsonValue;
}

const names = buildGoldenVectors().map((v) => v.name);
const golden = (name: string): { file: GoldenFile; bytes: Uint8Array } => ({
  file: JSON.parse(readFileSync(join(GOLDEN_DIR, `${name}.json`), "utf8")) as GoldenFile,
  bytes: new Uint8Array(readFileSync(join(GOLDEN_DIR, `${name}.bin`))),
});
const schemaOf = (type: GoldenFile["type"]): DescMessage => (type === "autoglm.v1.SidecarMessage" ? SidecarMessageSchema : ControlMessageSchema);

let harness: WireHarness;
before(async () => {
  harness = await loadWireHarness();
});

// ---- canonical forms shared by the TS and AS sides (floats as float32 bits, uint64 as strings)

const f64 = new Float64Array(1);
/** A double as the decimal string of its IEEE-754 bits. */
const f64bits = (v: number): string => {
  f64[0] = v;
  return new BigUint64Array(f64.buffer)[0]!.toString();
};

function canonicalLoad(load: UpstreamLoad | undefined): unknown {
  const metric = (m: LoadMetric | undefined) => ({ count: m?.count ?? 0, sumBits: f64bits(m?.sum ?? 0), maxBits: f64bits(m?.max ?? 0) });
  return {
    reports: load?.reports ?? 0,
    unparsed: load?.unparsed ?? 0,
    cpuUtilization: metric(load?.cpuUtilization),
    memUtilization: metric(load?.memUtilization),
    applicationUtilization: metric(load?.applicationUtilization),
    rpsFractional: metric(load?.rpsFractional),
    queueSize: metric(load?.queueSize),
  };
}

const f32 = new Float32Array(1);
const f32bits = (v: number): number => {
  f32[0] = v;
  return new Uint32Array(f32.buffer)[0];
};

function canonicalDecisionSet(d: DecisionSet): unknown {
  return {
    version: d.version.toString(),
    issuedAtMs: d.issuedAtMs.toString(),
    ttlMs: d.ttlMs,
    halted: d.halted,
    haltReason: d.haltReason,
    clusters: d.clusters.map((c) => ({
      cluster: c.cluster,
      state: c.state,
      weight: c.weight,
      probeFractionBits: f32bits(c.probeFraction),
      retryAfterS: c.retryAfterS,
      reason: c.reason,
      anomalyScoreBits: f32bits(c.anomalyScore),
      shedFractionBits: f32bits(c.shedFraction),
    })),
    shedFractionBits: f32bits(d.shedFraction),
    shedReason: d.shedReason,
    haltMode: d.haltMode,
    // The filter reads only a limit's source and admitted fraction (a deny comes with 0); it skips
    // deny, retry_after_s, reason and cap_per_s, which are for people and tools.
    sourceLimits: d.sourceLimits.map((l) => ({ source: l.source, admitFractionBits: f32bits(l.admitFraction) })),
  };
}

function canonicalControl(m: ControlMessage): unknown {
  const rejected = m.kind.case === "reportRejected" ? m.kind.value : null;
  return {
    decisions: m.kind.case === "decisions" ? canonicalDecisionSet(m.kind.value) : null,
    reportRejected: rejected === null
      ? null
      : { sequence: rejected.sequence.toString(), reason: rejected.reason, clockOffsetMs: rejected.clockOffsetMs.toString() },
  };
}

function canonicalHistogram(h: LatencyHistogram | undefined): unknown {
  if (h === undefined) return { firstBucket: 0, counts: [], sumUs: "0", maxUs: "0" };
  const trimmed = fromDense(toDense(h));
  return { firstBucket: trimmed.firstBucket, counts: trimmed.counts, sumUs: h.sumUs.toString(), maxUs: h.maxUs.toString() };
}

function canonicalStreams(s: StreamWindow | undefined): unknown {
  if (s === undefined) return null;
  return {
    streams: s.streams, cut: s.cut, failedInStream: s.failedInStream, tokensOut: s.tokensOut.toString(), tokensEstimated: s.tokensEstimated.toString(),
    ttft: canonicalHistogram(s.ttft), tpot: canonicalHistogram(s.tpot), maxGap: canonicalHistogram(s.maxGap),
  };
}

function canonicalSidecar(m: SidecarMessage): unknown {
  switch (m.kind.case) {
    case "hello": {
      const h = m.kind.value;
      return {
        kind: "hello",
        hello: {
          nodeId: h.nodeId, zone: h.zone, workerId: h.workerId, filterVersion: h.filterVersion, clusters: h.clusters,
          instanceId: h.instanceId.toString(), enforcedVersion: h.enforcedVersion.toString(), capabilities: h.capabilities,
          disconnectedMs: h.disconnectedMs.toString(), fallbackMs: h.fallbackMs.toString(),
        },
      };
    }
    case "report": {
      const r = m.kind.value;
      return {
        kind: "report",
        report: {
          windowStartMs: r.windowStartMs.toString(),
          windowLengthMs: r.windowLengthMs,
          sequence: r.sequence.toString(),
          enforcedVersion: r.enforcedVersion.toString(),
          clusters: r.clusters.map((c) => ({
            cluster: c.cluster,
            requests: c.requests,
            errors5xx: c.errors5xx,
            localRejects: c.localRejects,
            timeouts: c.timeouts,
            resets: c.resets,
            grpcErrors: c.grpcErrors,
            headersLatency: canonicalHistogram(c.headersLatency),
            totalLatency: canonicalHistogram(c.totalLatency),
            shed: c.shed,
            upstreamLoad: canonicalLoad(c.upstreamLoad),
            streams: canonicalStreams(c.streams),
            bodyScan: c.bodyScan === undefined ? null
              : { scanned: c.bodyScan.scanned, matched: c.bodyScan.matched, compressed: c.bodyScan.compressed },
            sent: c.sent,
            sentEnded: c.sentEnded ?? null,
            failed: c.failed ?? null,
          })),
          sources: r.sources.map((x) => ({ source: x.source, requests: x.requests, overestimate: x.overestimate, errors: x.errors, limited: x.limited })),
          sourcesTotal: r.sourcesTotal.toString(),
        },
      };
    }
    case "ack":
      return { kind: "ack", ack: { version: m.kind.value.version.toString() } };
    case "nack": {
      const n = m.kind.value;
      return { kind: "nack", nack: { version: n.version.toString(), reason: n.reason, enforcedVersion: n.enforcedVersion.toString() } };
    }
    default:
      return { kind: null };
  }
}

// ---- the vectors themselves

test("the committed golden vectors are exactly what scripts/golden.ts builds", () => {
  for (const v of buildGoldenVectors()) {
    const { file, bytes } = golden(v.name);
    assert.deepEqual(bytes, v.bytes, `${v.name}.bin is stale: run npx tsx scripts/golden.ts`);
    assert.deepEqual(file.json, v.json, `${v.name}.json is stale: run npx tsx scripts/golden.ts`);
    assert.equal(file.type, v.type);
  }
  assert.deepEqual(JSON.parse(readFileSync(join(GOLDEN_DIR, "invalid.json"), "utf8")), buildInvalidVectors());
});

test("the golden set covers hello, report, ack, nack, full and empty decision sets, refused reports and unknown fields", () => {
  for (const name of ["sidecar-hello", "sidecar-report", "sidecar-report-sources", "sidecar-ack", "sidecar-nack", "control-decisions", "control-halt-immediate",
    "control-empty-decisions", "control-source-limits", "control-report-rejected", "control-unknown-fields", "control-no-kind"]) {
    assert.ok(names.includes(name), `missing golden vector ${name}`);
  }
});

test("protobuf-es encodes each golden JSON to the golden bytes (known fields) and decodes the bytes to the JSON", () => {
  for (const name of names) {
    const { file, bytes } = golden(name);
    const schema = schemaOf(file.type);
    const decoded = fromBinary(schema, bytes);
    assert.deepEqual(toJson(schema, decoded), file.json, `${name}: decoding the bytes`);
    const reencoded = toBinary(schema, decoded);
    if (!file.unknownFields) assert.deepEqual(reencoded, bytes, `${name}: re-encoding gives the same bytes`);
    // protobuf-es writes unknown fields after the known ones, so only the length is kept.
    else assert.equal(reencoded.length, bytes.length, `${name}: re-encoding keeps the unknown fields`);
    const fromJsonBytes = toBinary(schema, fromJson(schema, file.json));
    if (!file.unknownFields) {
      assert.deepEqual(fromJsonBytes, bytes, `${name}: encoding the JSON`);
    } else {
      const stripped = clone(schema, decoded);
      const strip = (m: { $unknown?: unknown }): void => {
        delete m.$unknown;
        for (const value of Object.values(m)) {
          if (Array.isArray(value)) value.forEach((x) => typeof x === "object" && x !== null && strip(x));
          else if (typeof value === "object" && value !== null && !(value instanceof Uint8Array)) strip(value as { $unknown?: unknown });
        }
      };
      strip(stripped as { $unknown?: unknown });
      assert.deepEqual(fromJsonBytes, toBinary(schema, stripped), `${name}: encoding the JSON gives the bytes without the unknown fields`);
      assert.ok(fromJsonBytes.length < bytes.length, `${name}: the unknown fields are really in the bytes`);
    }
  }
});

test("the AssemblyScript decoder reads every golden ControlMessage to the same fields as protobuf-es", () => {
  for (const name of names.filter((n) => n.startsWith("control-"))) {
    const { bytes } = golden(name);
    const expected = canonicalControl(fromBinary(ControlMessageSchema, bytes));
    const actual = JSON.parse(harness.decodeControl(toArrayBuffer(bytes))) as unknown;
    assert.deepEqual(actual, expected, name);
  }
});

test("a ControlMessage of a kind this build does not know decodes to no kind and no error", () => {
  const { bytes } = golden("control-no-kind");
  assert.deepEqual(JSON.parse(harness.decodeControl(toArrayBuffer(bytes))), { decisions: null, reportRejected: null });
});

test("the hello's capabilities, the report's shed count and upstream load, and the decision set's shed fractions survive both codecs", () => {
  const hello = fromBinary(SidecarMessageSchema, golden("sidecar-hello").bytes);
  assert.deepEqual(hello.kind.case === "hello" ? hello.kind.value.capabilities : [], ["shed", "upstream_load", "", "streams", "fallback_time"]);
  const report = JSON.parse(harness.decodeSidecar(toArrayBuffer(golden("sidecar-report").bytes))) as {
    report: { clusters: { shed: number; upstreamLoad: { reports: number; cpuUtilization: { count: number; maxBits: string } } }[] };
  };
  assert.equal(report.report.clusters[1]!.shed, 4);
  assert.equal(report.report.clusters[0]!.upstreamLoad.reports, 11);
  assert.equal(report.report.clusters[0]!.upstreamLoad.cpuUtilization.maxBits, f64bits(0.9700000000000001));
  const decisions = JSON.parse(harness.decodeControl(toArrayBuffer(golden("control-decisions").bytes))) as {
    decisions: { shedFractionBits: number; shedReason: string; clusters: { shedFractionBits: number }[] };
  };
  assert.equal(decisions.decisions.shedFractionBits, f32bits(0.3));
  assert.equal(decisions.decisions.clusters[2]!.shedFractionBits, f32bits(0.75));
  assert.match(decisions.decisions.shedReason, /^trigger cpu-hot/);
});

test("a halt in mode immediate reads as immediate in protobuf-es and in the filter's decoder (field 9), and the filter's encoder writes it", () => {
  const { file, bytes } = golden("control-halt-immediate");
  const message = fromBinary(ControlMessageSchema, bytes);
  assert.equal(message.kind.case === "decisions" ? message.kind.value.haltMode : undefined, HaltMode.IMMEDIATE);
  // The field is really on the wire (field 9, varint 2), not a default left out.
  assert.ok(Buffer.from(bytes).includes(Buffer.from([0x48, 0x02])));
  const ours = JSON.parse(harness.decodeControl(toArrayBuffer(bytes))) as { error?: string; decisions: { halted: boolean; haltReason: string; haltMode: number } };
  assert.equal(ours.error, undefined);
  assert.equal(ours.decisions.halted, true);
  assert.equal(ours.decisions.haltMode, HaltMode.IMMEDIATE);
  assert.equal(ours.decisions.haltReason, "operator halt: runaway generation (by ops)");
  const encoded = new Uint8Array(harness.encodeControlFromJson(JSON.stringify(file.json)));
  assert.equal(Buffer.from(encoded).toString("hex"), Buffer.from(bytes).toString("hex"));
});

test("the report's body scans (ClusterWindow.body_scan, field 13) survive both codecs", () => {
  const { bytes } = golden("sidecar-report");
  const report = fromBinary(SidecarMessageSchema, bytes);
  const clusters = report.kind.case === "report" ? report.kind.value.clusters : [];
  assert.deepEqual(clusters.map((c) => c.bodyScan === undefined ? null : [c.bodyScan.scanned, c.bodyScan.matched, c.bodyScan.compressed]),
    [[120, 3, 7], [0, 0, 4_294_967_295], null]);
  const ours = JSON.parse(harness.decodeSidecar(toArrayBuffer(bytes))) as { report: { clusters: { bodyScan: unknown }[] } };
  assert.deepEqual(ours.report.clusters.map((c) => c.bodyScan),
    [{ scanned: 120, matched: 3, compressed: 7 }, { scanned: 0, matched: 0, compressed: 4_294_967_295 }, null]);
});

test("a report's top sources and a decision set's source limits survive both codecs; the filter reads a limit's source and fraction only", () => {
  const report = JSON.parse(harness.decodeSidecar(toArrayBuffer(golden("sidecar-report-sources").bytes))) as {
    report: { sources: { source: string; requests: number; overestimate: number; limited: number }[]; sourcesTotal: string };
  };
  assert.equal(report.report.sourcesTotal, "5000000000");
  assert.deepEqual(report.report.sources.map((s) => s.source), ["10.1.2.3", "2001:db8::7", "af63bd4c8601b7df", ""]);
  assert.equal(report.report.sources[2]!.requests, 4_294_967_295);
  assert.equal(report.report.sources[0]!.limited, 300);
  const { bytes } = golden("control-source-limits");
  const theirs = fromBinary(ControlMessageSchema, bytes);
  assert.deepEqual(theirs.kind.case === "decisions" ? theirs.kind.value.sourceLimits.map((l) => l.capPerS) : [], [0, 300, 0.5]);
  const ours = JSON.parse(harness.decodeControl(toArrayBuffer(bytes))) as { decisions: { sourceLimits: { source: string; admitFractionBits: number }[] } };
  assert.deepEqual(ours.decisions.sourceLimits.map((l) => [l.source, l.admitFractionBits]), [["af63bd4c8601b7df", 0], ["10.1.2.3", f32bits(0.3)], ["10.1.2.4", 0]]);
});

test("the hello's enforced version and a refused report's negative clock offset survive both codecs", () => {
  const hello = fromBinary(SidecarMessageSchema, golden("sidecar-hello").bytes);
  assert.equal(hello.kind.case === "hello" ? hello.kind.value.enforcedVersion : 0n, 1_764_000_000n * 2n ** 20n + 18n);
  const rejected = JSON.parse(harness.decodeControl(toArrayBuffer(golden("control-report-rejected").bytes))) as { reportRejected: { clockOffsetMs: string } };
  assert.equal(rejected.reportRejected.clockOffsetMs, "-120000");
});

test("the hello's disconnected and fallback times (fields 9 and 10) survive both codecs", () => {
  const { bytes } = golden("sidecar-hello");
  const hello = fromBinary(SidecarMessageSchema, bytes);
  assert.equal(hello.kind.case === "hello" ? hello.kind.value.disconnectedMs : 0n, 93_250n);
  assert.equal(hello.kind.case === "hello" ? hello.kind.value.fallbackMs : 0n, 63_250n);
  const ours = JSON.parse(harness.decodeSidecar(toArrayBuffer(bytes))) as { hello: { disconnectedMs: string; fallbackMs: string } };
  assert.deepEqual([ours.hello.disconnectedMs, ours.hello.fallbackMs], ["93250", "63250"]);
});

test("of two kinds in one ControlMessage the last one counts, as protobuf's oneof says", () => {
  const decisions = golden("control-empty-decisions").bytes;
  const rejected = golden("control-report-rejected").bytes;
  for (const bytes of [Buffer.concat([decisions, rejected]), Buffer.concat([rejected, decisions])]) {
    const expected = canonicalControl(fromBinary(ControlMessageSchema, bytes));
    assert.deepEqual(JSON.parse(harness.decodeControl(toArrayBuffer(bytes))), expected);
  }
});

test("the AssemblyScript encoder writes every golden SidecarMessage byte for byte from its field values", () => {
  for (const name of names.filter((n) => n.startsWith("sidecar-"))) {
    const { file, bytes } = golden(name);
    const encoded = new Uint8Array(harness.encodeSidecarFromJson(JSON.stringify(file.json)));
    assert.equal(harness.lastError(), "", name);
    assert.equal(Buffer.from(encoded).toString("hex"), Buffer.from(bytes).toString("hex"), name);
  }
});

test("the AssemblyScript encoder writes the golden decision sets and refused reports byte for byte (as the control plane would)", () => {
  for (const name of ["control-decisions", "control-empty-decisions", "control-report-rejected", "control-report-rejected-ahead"]) {
    const { file, bytes } = golden(name);
    const encoded = new Uint8Array(harness.encodeControlFromJson(JSON.stringify(file.json)));
    assert.equal(Buffer.from(encoded).toString("hex"), Buffer.from(bytes).toString("hex"), name);
  }
});

test("the AssemblyScript sidecar decoder reads every golden SidecarMessage to the same fields as protobuf-es", () => {
  for (const name of names.filter((n) => n.startsWith("sidecar-"))) {
    const { bytes } = golden(name);
    const expected = canonicalSidecar(fromBinary(SidecarMessageSchema, bytes));
    assert.deepEqual(JSON.parse(harness.decodeSidecar(toArrayBuffer(bytes))), expected, name);
  }
});

test("malformed ControlMessages give an error naming the field and the problem", () => {
  const invalid = JSON.parse(readFileSync(join(GOLDEN_DIR, "invalid.json"), "utf8")) as InvalidVector[];
  assert.ok(invalid.length >= 15);
  for (const v of invalid) {
    const result = JSON.parse(harness.decodeControl(toArrayBuffer(Buffer.from(v.hex, "hex")))) as { error?: string };
    assert.equal(typeof result.error, "string", `${v.name} decoded without an error`);
    assert.ok(result.error!.includes(v.error), `${v.name}: got "${result.error}", expected it to contain "${v.error}"`);
  }
});

test("SidecarMessage histograms reaching past the last bucket are rejected", () => {
  // report { clusters { headers_latency { first_bucket: 239, counts: [1, 1] } } }
  const histogram = [0x08, 0xef, 0x01, 0x12, 0x02, 0x01, 0x01];
  const cluster = [0x42, histogram.length, ...histogram];
  const report = [0x2a, cluster.length, ...cluster];
  const message = new Uint8Array([0x12, report.length, ...report]);
  const result = JSON.parse(harness.decodeSidecar(toArrayBuffer(message))) as { error?: string };
  assert.equal(result.error, "report.clusters[0].headers_latency.counts: buckets 239..240 exceed the last bucket 239");
});

// ---- fuzzing: nothing traps, every outcome is an error or a consistent decode

/** Seeded xorshift32, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

function mutations(seeds: Uint8Array[], count: number, random: () => number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const s of seeds) for (let n = 0; n <= s.length; n++) out.push(s.subarray(0, n)); // every truncation
  for (let i = 0; i < count; i++) {
    const pick = random();
    if (pick < 0.25) {
      out.push(Uint8Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
      continue;
    }
    const base = Uint8Array.from(seeds[Math.floor(random() * seeds.length)]);
    const edits = 1 + Math.floor(random() * 4);
    let bytes: Uint8Array = base;
    for (let e = 0; e < edits && bytes.length > 0; e++) {
      const at = Math.floor(random() * bytes.length);
      const kind = random();
      if (kind < 0.4) bytes[at] = Math.floor(random() * 256);
      else if (kind < 0.7) bytes[at] ^= 1 << Math.floor(random() * 8);
      else if (kind < 0.85) bytes = Uint8Array.from([...bytes.subarray(0, at), Math.floor(random() * 256), ...bytes.subarray(at)]);
      else bytes = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + 1)]);
    }
    out.push(bytes);
  }
  return out;
}

test("the AssemblyScript ControlMessage decoder never traps on random, truncated or mutated bytes", () => {
  const seeds = names.filter((n) => n.startsWith("control-")).map((n) => golden(n).bytes);
  const outcomes = new Map<number, number>();
  for (const bytes of mutations(seeds, 6_000, rng(0xc0ffee))) {
    let outcome: number;
    try {
      outcome = harness.fuzzControl(toArrayBuffer(bytes));
    } catch (err) {
      assert.fail(`decoder trapped on ${Buffer.from(bytes).toString("hex")}: ${String(err)}`);
    }
    assert.notEqual(outcome, -1, `inconsistent decode of ${Buffer.from(bytes).toString("hex")}`);
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  // The mutations must exercise both paths, or the fuzzing proves little.
  assert.ok((outcomes.get(0) ?? 0) > 500, `errors: ${outcomes.get(0)}`);
  assert.ok((outcomes.get(1) ?? 0) > 300, `decoded decision sets: ${outcomes.get(1)}`);
  assert.ok((outcomes.get(3) ?? 0) > 100, `decoded refused reports: ${outcomes.get(3)}`);
});

test("the AssemblyScript SidecarMessage decoder never traps on random, truncated or mutated bytes", () => {
  const seeds = names.filter((n) => n.startsWith("sidecar-")).map((n) => golden(n).bytes);
  let decoded = 0;
  for (const bytes of mutations(seeds, 3_000, rng(42))) {
    const outcome = harness.fuzzSidecar(toArrayBuffer(bytes));
    assert.notEqual(outcome, -1, Buffer.from(bytes).toString("hex"));
    if (outcome === 1) decoded++;
  }
  assert.ok(decoded > 300, `decoded: ${decoded}`);
});

test("when the AssemblyScript decoder accepts mutated bytes, protobuf-es reads the same decision set", () => {
  const seeds = names.filter((n) => n.startsWith("control-")).map((n) => golden(n).bytes);
  let compared = 0;
  for (const bytes of mutations(seeds, 3_000, rng(7))) {
    const ours = JSON.parse(harness.decodeControl(toArrayBuffer(bytes))) as { error?: string; decisions?: unknown };
    if (ours.error !== undefined) continue;
    let theirs: ControlMessage;
    try {
      theirs = fromBinary(ControlMessageSchema, bytes);
    } catch {
      continue; // protobuf-es is stricter in places (e.g. invalid UTF-8); the filter is allowed to accept more
    }
    assert.deepEqual(ours, canonicalControl(theirs), Buffer.from(bytes).toString("hex"));
    compared++;
  }
  assert.ok(compared > 300, `compared: ${compared}`);
});
