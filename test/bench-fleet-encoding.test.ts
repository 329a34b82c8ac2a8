// The control-plane bench's simulated sidecars write their reports and acks with a hand-written
// encoder (protobuf-es per message was the fleet's bottleneck): it must give protobuf-es's bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { ClusterWindowSchema, SidecarMessageSchema, TelemetryReportSchema } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { encodeAckMessage, encodeClusterFields, encodeReportMessage } from "../control-plane/src/grpc/simulated-sidecars.js";

test("hand-encoded reports and acks are byte for byte what protobuf-es writes", () => {
  const clusters = [create(ClusterWindowSchema, { cluster: "llm-a", requests: 50, errors5xx: 3 }), create(ClusterWindowSchema, { cluster: "llm-b", requests: 7 })];
  const fields = encodeClusterFields(clusters);
  const cases: Array<[number, number, number, number]> = [
    [0, 0, 0, 0],
    [1_795_000_000_000, 1000, 1, 0],
    [1_795_000_000_000, 1000, 300, 127],
    [2 ** 52, 4_294_967_295, 2 ** 40, 128],
  ];
  for (const [start, length, sequence, version] of cases) {
    const expected = toBinary(
      SidecarMessageSchema,
      create(SidecarMessageSchema, {
        kind: { case: "report", value: create(TelemetryReportSchema, { windowStartMs: BigInt(start), windowLengthMs: length, sequence: BigInt(sequence), enforcedVersion: BigInt(version), clusters }) },
      }),
    );
    assert.deepEqual(new Uint8Array(encodeReportMessage(start, length, sequence, version, fields)), expected, `report ${[start, length, sequence, version]}`);
  }
  for (const version of [0, 1, 127, 128, 2 ** 40]) {
    const expected = toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "ack", value: { version: BigInt(version) } } }));
    assert.deepEqual(new Uint8Array(encodeAckMessage(version)), expected, `ack ${version}`);
  }
});
