// Golden wire vectors for the filter <-> control plane contract, made with protobuf-es (the
// reference encoder). Each vector is test/golden/<name>.bin (the protobuf bytes) plus
// test/golden/<name>.json describing it (type, proto3 JSON of the known fields, notes).
// test/golden/invalid.json lists malformed ControlMessages and the error the filter's decoder
// must give. Run: npx tsx scripts/golden.ts   (rewrites test/golden/; commit the result)
// test/wire-golden.test.ts checks the committed files equal what this script builds.

import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { create, toBinary, toJson, type DescMessage, type JsonValue, type UnknownField } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
  BreakerState,
  ClusterDecisionSchema,
  ControlMessageSchema,
  DecisionSetSchema,
  HaltMode,
  SidecarMessageSchema,
} from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { histogramOf } from "../lib/histogram.js";

export const GOLDEN_DIR = join("test", "golden");

/** One golden vector: the bytes and their description. */
export interface GoldenVector {
  name: string;
  description: string;
  /** Fully qualified message type of the bytes. */
  type: "autoglm.v1.SidecarMessage" | "autoglm.v1.ControlMessage";
  bytes: Uint8Array;
  /** proto3 JSON of the known fields (what a decoder must find). */
  json: JsonValue;
  /** True when the bytes also carry unknown fields (so encoding the JSON gives fewer bytes). */
  unknownFields: boolean;
}

/** A malformed ControlMessage and a substring of the error the filter's decoder must give. */
export interface InvalidVector {
  name: string;
  hex: string;
  error: string;
}

function vector<D extends DescMessage>(
  name: string,
  description: string,
  schema: D,
  message: Parameters<typeof toBinary<D>>[1],
  unknownFields = false,
  prefix: Uint8Array = new Uint8Array(0),
): GoldenVector {
  const body = toBinary(schema, message);
  const bytes = new Uint8Array(prefix.length + body.length);
  bytes.set(prefix, 0);
  bytes.set(body, prefix.length);
  return {
    name,
    description,
    type: schema.typeName as GoldenVector["type"],
    bytes,
    json: toJson(schema, message),
    unknownFields,
  };
}

/** Unknown fields of every skippable wire type, as protobuf-es keeps them ($unknown). */
function unknownFieldsOfEveryWireType(firstNo: number): UnknownField[] {
  return [
    { no: firstNo, wireType: WireType.Varint, data: new BinaryWriter().uint64(300n).finish() },
    { no: firstNo + 1, wireType: WireType.Bit64, data: new BinaryWriter().fixed64(0x0102030405060708n).finish() },
    { no: firstNo + 2, wireType: WireType.LengthDelimited, data: new BinaryWriter().bytes(new Uint8Array([0x0a, 0x03, 0x66, 0x6f, 0x6f, 0xff])).finish() },
    { no: firstNo + 3, wireType: WireType.Bit32, data: new BinaryWriter().fixed32(0xdeadbeef).finish() },
    // A large field number (5-byte key) with an empty length-delimited value.
    { no: 536870911, wireType: WireType.LengthDelimited, data: new BinaryWriter().bytes(new Uint8Array(0)).finish() },
  ];
}

function allStatesDecisionSet() {
  return create(DecisionSetSchema, {
    version: 1_700_000_000_123n,
    issuedAtMs: 1_763_800_000_000n,
    ttlMs: 30_000,
    halted: true,
    haltReason: "operator halt: incident INC-42 ✓",
    clusters: [
      create(ClusterDecisionSchema, {
        cluster: "llm-a",
        state: BreakerState.CLOSED,
        weight: 70,
        reason: "healthy",
        anomalyScore: 0.0625,
      }),
      create(ClusterDecisionSchema, {
        cluster: "llm-b",
        state: BreakerState.OPEN,
        weight: 0,
        retryAfterS: 15,
        reason: "p99 2300ms > slo 2000ms",
        anomalyScore: 0.9375,
      }),
      create(ClusterDecisionSchema, {
        cluster: "llm-c",
        state: BreakerState.HALF_OPEN,
        weight: 30,
        probeFraction: 0.25,
        retryAfterS: 5,
        reason: "probing after 30s open — µs ok",
        anomalyScore: 0.5,
        shedFraction: 0.75,
      }),
      create(ClusterDecisionSchema, {
        cluster: "llm-d",
        state: BreakerState.UNSPECIFIED,
        weight: 4_294_967_295,
        probeFraction: Math.fround(0.1), // inexact in float32: JSON shows 0.10000000149011612
        retryAfterS: 4_294_967_295,
        reason: "",
        anomalyScore: 1,
        shedFraction: 1,
      }),
    ],
    shedFraction: Math.fround(0.3), // inexact in float32
    shedReason: "trigger cpu-hot: cpu 0.97 > 0.95 for 10 s ✓",
  });
}

/** Builds every golden vector (deterministic). */
export function buildGoldenVectors(): GoldenVector[] {
  const vectors: GoldenVector[] = [];

  vectors.push(
    vector("sidecar-hello", "Hello with every field set (capabilities with an empty name), a non-ASCII zone, back after 93.25 s of which 63.25 s on its fallback, a uint64 instance id above 2^63 and an enforced version of generation 1764000000, sequence 18 (generation * 2^20 + sequence).", SidecarMessageSchema, create(SidecarMessageSchema, {
      kind: {
        case: "hello",
        value: {
          nodeId: "sidecar-1",
          zone: "zone-ä",
          workerId: 3,
          filterVersion: "0.1.0",
          clusters: ["llm-a", "llm-b", "", "llm-c"],
          instanceId: 0xdeadbeefcafebaben,
          enforcedVersion: 1_764_000_000n * 2n ** 20n + 18n,
          capabilities: ["shed", "upstream_load", "", "streams", "fallback_time"],
          disconnectedMs: 93_250n,
          fallbackMs: 63_250n,
        },
      },
    })),
  );

  const fast = histogramOf([0, 3, 15, 16, 17, 250, 260, 1000, 1000, 1000, 12_345, 99_999]);
  const slow = histogramOf([150_000, 2_300_000, 2_300_000, 5_000_000_000, 4_294_967_296]);
  vectors.push(
    vector("sidecar-report", "TelemetryReport with two clusters with histograms (sparse ranges with inner zeros, the overflow bucket), shed requests, requests sent (the largest uint32) and of them ended in the window (an optional field present at 0, and one near the largest uint32), failed requests counted once (fewer than the overlapping 5xx, reset, timeout and gRPC counts add up to), upstream load (doubles inexact in decimal, a metric with only a count, extreme doubles) and streams (every StreamWindow field, tokens above 2^32; and cut streams with only a TTFT) and body scans (every BodyScan field; only compressed bodies, the largest uint32), and one with only local rejects (no histograms).", SidecarMessageSchema, create(SidecarMessageSchema, {
      kind: {
        case: "report",
        value: {
          windowStartMs: 1_763_800_000_000n,
          windowLengthMs: 1000,
          sequence: 17n,
          enforcedVersion: 9n,
          clusters: [
            {
              cluster: "llm-a",
              requests: 12,
              errors5xx: 1,
              localRejects: 0,
              timeouts: 0,
              resets: 1,
              grpcErrors: 2,
              headersLatency: fast,
              totalLatency: histogramOf([10, 20, 300, 4000, 50_000, 600_000, 7_000_000, 80_000_000, 900_000_000, 1000, 1000, 1000]),
              upstreamLoad: {
                reports: 11,
                unparsed: 1,
                cpuUtilization: { count: 11, sum: 0.1 + 0.2 + 7.9, max: 0.9700000000000001 },
                applicationUtilization: { count: 3, sum: 1.5, max: 1.25 },
                queueSize: { count: 2, sum: 9, max: 7 },
              },
              streams: {
                streams: 9,
                cut: 3,
                failedInStream: 2,
                tokensOut: 5_000_000_123n,
                tokensEstimated: 412n,
                ttft: histogramOf([180_000, 210_000, 250_000, 2_400_000, 95_000, 120_000, 130_000, 140_000]),
                tpot: histogramOf([21_000, 22_000, 25_000, 90_000, 30_000, 18_000, 19_000]),
                maxGap: histogramOf([40_000, 41_000, 3_000_000, 60_000, 70_000, 80_000, 90_000]),
              },
              bodyScan: { scanned: 120, matched: 3, compressed: 7 },
              sent: 15,
              sentEnded: 0,
              failed: 3,
            },
            {
              cluster: "llm-b",
              requests: 5,
              errors5xx: 4,
              localRejects: 7,
              timeouts: 3,
              resets: 0,
              grpcErrors: 0,
              headersLatency: slow,
              totalLatency: slow,
              shed: 4,
              upstreamLoad: { unparsed: 5, memUtilization: { count: 1, sum: 0, max: 0 }, rpsFractional: { count: 4_294_967_295, sum: 1e300, max: 5e-324 } },
              streams: { streams: 2, cut: 2, ttft: histogramOf([3_000_000]) },
              bodyScan: { compressed: 4_294_967_295 },
              sent: 4_294_967_295,
              sentEnded: 4_294_967_294,
              failed: 4,
            },
            { cluster: "llm-c", localRejects: 40 },
          ],
        },
      },
    })),
  );

  vectors.push(
    vector("sidecar-ack", "DecisionAck.", SidecarMessageSchema, create(SidecarMessageSchema, {
      kind: { case: "ack", value: { version: 42n } },
    })),
  );

  vectors.push(
    vector("sidecar-nack", "DecisionNack with a reason holding 2-, 3- and 4-byte UTF-8 characters.", SidecarMessageSchema, create(SidecarMessageSchema, {
      kind: {
        case: "nack",
        value: { version: 43n, reason: "clusters[2].weight: sum of weights is 0 — µs ✓ 🚦", enforcedVersion: 42n },
      },
    })),
  );

  vectors.push(
    vector("sidecar-empty-report", "TelemetryReport with every field at its default: the message is present but empty.", SidecarMessageSchema, create(SidecarMessageSchema, {
      kind: { case: "report", value: {} },
    })),
  );

  vectors.push(
    vector("sidecar-report-sources", "TelemetryReport of a window with no cluster traffic but its top sources (Who sends the traffic): an address, an IPv6 address, a hashed API key (16 hex digits), the empty identity (no address), a source counted with an overestimate, errors and 429s from a source limit, counts at uint32's top, and a total above 2^32.", SidecarMessageSchema, create(SidecarMessageSchema, {
      kind: {
        case: "report",
        value: {
          windowStartMs: 1_763_800_001_000n,
          windowLengthMs: 1000,
          sequence: 9n,
          enforcedVersion: 1_764_000_000n * 2n ** 20n + 19n,
          sources: [
            { source: "10.1.2.3", requests: 1200, errors: 12, limited: 300 },
            { source: "2001:db8::7", requests: 17, overestimate: 9, errors: 1 },
            { source: "af63bd4c8601b7df", requests: 4_294_967_295, overestimate: 4_294_967_294 },
            { source: "", requests: 3 },
          ],
          sourcesTotal: 5_000_000_000n,
        },
      },
    })),
  );

  vectors.push(
    vector("control-source-limits", "DecisionSet with source limits: a deny with its retry-after and a non-ASCII reason, a rate cap as an admitted fraction (inexact in float32) with the cap it enforces (a double the filter skips), and a fraction of 0.", ControlMessageSchema, create(ControlMessageSchema, {
      kind: {
        case: "decisions",
        value: {
          version: 1_764_000_000n * 2n ** 20n + 20n,
          issuedAtMs: 1_763_800_002_000n,
          ttlMs: 30_000,
          clusters: [create(ClusterDecisionSchema, { cluster: "llm-a", state: BreakerState.CLOSED, weight: 100, probeFraction: 1, reason: "healthy" })],
          sourceLimits: [
            { source: "af63bd4c8601b7df", deny: true, retryAfterS: 600, reason: "operator ops: key leaked — µs ✓" },
            { source: "10.1.2.3", admitFraction: Math.fround(0.3), capPerS: 300, reason: "trigger tenant-flood" },
            { source: "10.1.2.4", admitFraction: 0, capPerS: 0.5 },
          ],
        },
      },
    })),
  );

  vectors.push(
    vector("control-decisions", "DecisionSet with every field and every breaker state, halted, shedding (mesh-wide and per cluster, up to 1), max uint32 values, floats exact and inexact in float32.", ControlMessageSchema, create(ControlMessageSchema, {
      kind: { case: "decisions", value: allStatesDecisionSet() },
    })),
  );

  vectors.push(
    vector("control-halt-immediate", "A halted DecisionSet in halt mode IMMEDIATE (DecisionSet.halt_mode, field 9), which the filter enforces by cutting the streams in flight (capability \"halt_immediate\").", ControlMessageSchema, create(ControlMessageSchema, {
      kind: {
        case: "decisions",
        value: {
          version: 1_764_000_000n * 2n ** 20n + 7n,
          issuedAtMs: 1_763_800_000_000n,
          ttlMs: 30_000,
          halted: true,
          haltReason: "operator halt: runaway generation (by ops)",
          haltMode: HaltMode.IMMEDIATE,
          clusters: [create(ClusterDecisionSchema, { cluster: "llm-a", state: BreakerState.CLOSED, weight: 100, probeFraction: 1, reason: "healthy" })],
        },
      },
    })),
  );

  vectors.push(
    vector("control-empty-decisions", "An empty DecisionSet (all defaults, no clusters).", ControlMessageSchema, create(ControlMessageSchema, {
      kind: { case: "decisions", value: {} },
    })),
  );

  vectors.push(
    vector("control-report-rejected", "ReportRejected of a report whose window starts 120 s behind the control plane's clock (a negative sint64 clock offset) with a non-ASCII reason.", ControlMessageSchema, create(ControlMessageSchema, {
      kind: {
        case: "reportRejected",
        value: {
          sequence: 4_294_967_301n,
          reason: "window_start_ms: 1763799880000 is 120000 ms behind the control plane's clock (late grace 3000 ms) — µs ✓",
          clockOffsetMs: -120_000n,
        },
      },
    })),
  );

  vectors.push(
    vector("control-report-rejected-ahead", "ReportRejected of a report whose window starts in 2100: a positive clock offset (the worker's clock ahead) above 2^32 ms.", ControlMessageSchema, create(ControlMessageSchema, {
      kind: { case: "reportRejected", value: { sequence: 1n, reason: "window_start_ms: too far ahead", clockOffsetMs: 2_338_644_800_000n } },
    })),
  );

  const noKind = create(ControlMessageSchema, {});
  noKind.$unknown = [{ no: 15, wireType: WireType.LengthDelimited, data: new BinaryWriter().bytes(new Uint8Array([0x08, 0x01])).finish() }];
  vectors.push(
    vector("control-no-kind", "A ControlMessage with no kind this build knows (field 15, as from a newer control plane): decodes to no kind and no error.", ControlMessageSchema, noKind, true),
  );

  const withUnknown = allStatesDecisionSet();
  withUnknown.$unknown = unknownFieldsOfEveryWireType(100);
  withUnknown.clusters[0].$unknown = unknownFieldsOfEveryWireType(9);
  withUnknown.clusters[2].$unknown = [{ no: 15, wireType: WireType.Varint, data: new BinaryWriter().uint64(0xffffffffffffffffn).finish() }];
  // An unknown varint field before everything (messages concatenate: the prefix merges in).
  const prefix = new BinaryWriter().tag(77, WireType.Varint).uint32(1).finish();
  vectors.push(
    vector("control-unknown-fields", "The control-decisions set with unknown fields of wire types 0, 1, 2, 5 (and a 5-byte key) in the ControlMessage, the DecisionSet and two ClusterDecisions: decoders skip them.", ControlMessageSchema, create(ControlMessageSchema, {
      kind: { case: "decisions", value: withUnknown },
      $unknown: unknownFieldsOfEveryWireType(20),
    }), true, prefix),
  );
  return vectors;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/** Malformed ControlMessages and the error (substring) the filter's decoder must give. */
export function buildInvalidVectors(): InvalidVector[] {
  const good = toBinary(ControlMessageSchema, create(ControlMessageSchema, { kind: { case: "decisions", value: allStatesDecisionSet() } }));
  return [
    { name: "truncated-in-string", hex: hex(good.subarray(0, 40)), error: "decisions: length" },
    { name: "truncated-length", hex: "0a", error: "decisions length: truncated varint" },
    { name: "set-overruns-message", hex: "0a0208", error: "decisions: length 2 exceeds the 1 bytes left" },
    { name: "truncated-varint", hex: "0a0108", error: "decisions.version: truncated varint" },
    { name: "cluster-overruns-set", hex: "0a0432050a01", error: "decisions.clusters[0]: length 5 exceeds the 2 bytes left" },
    { name: "string-overruns-cluster", hex: "0a0632040a056c6c", error: "decisions.clusters[0].cluster: length 5 exceeds the 2 bytes left" },
    { name: "truncated-float", hex: "0a05320325cdcc", error: "decisions.clusters[0].probe_fraction: truncated fixed32" },
    { name: "group-start", hex: "0a027b7c", error: "decisions.field 15: wire type 3 (group) is not supported" },
    { name: "group-end", hex: "1c", error: "ControlMessage field 3: wire type 4 (group) is not supported" },
    { name: "invalid-wire-type-6", hex: "1e00", error: "ControlMessage field 3: invalid wire type 6" },
    { name: "wrong-wire-type-report-rejected", hex: "1001", error: "report_rejected: wire type 0, expected 2" },
    { name: "reason-overruns-report-rejected", hex: "120312056c", error: "report_rejected.reason: length 5 exceeds the 1 bytes left" },
    { name: "wrong-wire-type-clock-offset", hex: "12031a0100", error: "report_rejected.clock_offset_ms: wire type 2, expected 0" },
    { name: "invalid-wire-type-7", hex: "0a027f00", error: "decisions.field 15: invalid wire type 7" },
    { name: "field-number-zero", hex: "0a020001", error: "decisions.DecisionSet: invalid field number 0" },
    { name: "wrong-wire-type-version", hex: "0a050d01020304", error: "decisions.version: wire type 5, expected 0" },
    { name: "wrong-wire-type-decisions", hex: "0801", error: "decisions: wire type 0, expected 2" },
    { name: "wrong-wire-type-cluster-state", hex: "0a04320215" + "00", error: "decisions.clusters[0].state: wire type 5, expected 0" },
    { name: "varint-too-long", hex: "0a0c08ffffffffffffffffffff01", error: "decisions.version: varint longer than 10 bytes" },
    { name: "truncated-unknown-fixed64", hex: "0a06b90601020304", error: "decisions.field 103: truncated fixed64" },
    { name: "wrong-wire-type-clusters", hex: "0a03350102", error: "decisions.clusters[0]: wire type 5, expected 2" },
    { name: "truncated-unknown-fixed32-unknown-field", hex: "0a037d0102", error: "decisions.field 15: truncated fixed32" },
    { name: "truncated-unknown-len", hex: "a20105010203", error: "ControlMessage field 20: length 5 exceeds the 3 bytes left" },
    { name: "length-over-4gib", hex: "0a8080808010", error: "decisions: length 4294967296 exceeds the 0 bytes left" },
  ];
}

function writeAll(): void {
  mkdirSync(GOLDEN_DIR, { recursive: true });
  for (const v of buildGoldenVectors()) {
    writeFileSync(join(GOLDEN_DIR, `${v.name}.bin`), v.bytes);
    const description = { name: v.name, description: v.description, type: v.type, binary: `${v.name}.bin`, unknownFields: v.unknownFields, json: v.json };
    writeFileSync(join(GOLDEN_DIR, `${v.name}.json`), JSON.stringify(description, null, 2) + "\n");
  }
  writeFileSync(join(GOLDEN_DIR, "invalid.json"), JSON.stringify(buildInvalidVectors(), null, 2) + "\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) writeAll();
