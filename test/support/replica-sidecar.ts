// A sidecar worker on an in-process stream of a control plane (service.ts openInProcessStream):
// says hello (optionally enforcing a version already), reports one window at a time with the
// traffic split as the set it holds says, and records every decision set it receives; with `ack`
// it acknowledges each set it applies (DecisionAck), as the filter does, and with `appliesUpTo` it
// applies no set above that version (it keeps the one it holds and says nothing).
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  ClusterWindowSchema,
  ControlMessageSchema,
  LatencyHistogramSchema,
  SidecarMessageSchema,
  TelemetryReportSchema,
} from "../../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { latencyCounts } from "../../control-plane/src/core/report-builder.js";
import type { DecisionSet } from "../../control-plane/src/core/types.js";
import { decisionSetFromProto } from "../../control-plane/src/grpc/convert.js";
import type { ControlPlane } from "../../control-plane/src/service.js";

export interface InProcessSidecar {
  readonly nodeId: string;
  /** Every decision set received, in order. */
  readonly received: DecisionSet[];
  /** Set once the control plane closed the stream: [gRPC code, details]. */
  closed: [number, string] | undefined;
  /** The version it enforces: the newest received that is not below an earlier one (a sidecar
   *  refuses a lower version), else the one it said hello with. */
  enforced(): number;
  /**
   * Reports the window that starts at windowStartMs: `perCluster` requests to every cluster the
   * held set does not hold open, latency 100 ms, failing at `errorRate[cluster]` (default 0).
   */
  /** One window's report; `sources`: who sent its requests (the filter's sketch, none displaced). */
  report(windowStartMs: number, options?: { errorRate?: Record<string, number>; perCluster?: number; sources?: Record<string, number> }): void;
  close(): void;
}

export interface SidecarBehaviour {
  /** Acknowledge every set applied (DecisionAck). Default false: only reports say what it enforces. */
  ack?: boolean;
  /** Apply no set above this version. Default: every set. */
  appliesUpTo?: number;
}

export function connectSidecar(cp: ControlPlane, nodeId: string, clusters: readonly string[], enforcedVersion = 0, behaviour: SidecarBehaviour = {}): InProcessSidecar {
  let sequence = 0;
  let held = enforcedVersion;
  const sidecar: InProcessSidecar = {
    nodeId,
    received: [],
    closed: undefined,
    enforced: () => held,
    report(windowStartMs, options = {}) {
      const set = sidecar.received.at(-1);
      const open = new Set(set?.clusters.filter((c) => c.state === "open").map((c) => c.cluster) ?? []);
      const windows = clusters
        .filter((c) => !open.has(c))
        .map((cluster) => {
          const requests = options.perCluster ?? 100;
          const h = latencyCounts(new Array<number>(requests).fill(100));
          return create(ClusterWindowSchema, {
            cluster,
            requests,
            errors5xx: Math.round(requests * (options.errorRate?.[cluster] ?? 0)),
            totalLatency: create(LatencyHistogramSchema, { firstBucket: h.firstBucket, counts: [...h.counts], sumUs: BigInt(h.sumUs), maxUs: BigInt(h.maxUs) }),
          });
        });
      sequence++;
      const counted = Object.entries(options.sources ?? {});
      const report = create(TelemetryReportSchema, {
        windowStartMs: BigInt(windowStartMs), windowLengthMs: 1000, sequence: BigInt(sequence), enforcedVersion: BigInt(held), clusters: windows,
        sources: counted.map(([source, requests]) => ({ source, requests, overestimate: 0, errors: 0, limited: 0 })),
        sourcesTotal: BigInt(counted.reduce((a, [, n]) => a + n, 0)),
      });
      stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "report", value: report } })));
    },
    close: () => stream.close(),
  };
  const stream = cp.openInProcessStream(
    {},
    {
      onMessage(bytes) {
        const message = fromBinary(ControlMessageSchema, bytes);
        if (message.kind.case !== "decisions") return;
        const set = decisionSetFromProto(message.kind.value);
        sidecar.received.push(set);
        if (set.version > (behaviour.appliesUpTo ?? Number.POSITIVE_INFINITY)) return;
        if (set.version >= held) held = set.version;
        if (behaviour.ack === true) {
          stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "ack", value: { version: BigInt(set.version) } } })));
        }
      },
      onClose(code, details) {
        sidecar.closed = [code, details];
      },
    },
  );
  stream.send(
    toBinary(
      SidecarMessageSchema,
      create(SidecarMessageSchema, { kind: { case: "hello", value: { nodeId, zone: "z", workerId: 0, clusters: [...clusters], enforcedVersion: BigInt(enforcedVersion) } } }),
    ),
  );
  return sidecar;
}

/** Whether a sidecar's received versions never went down. */
export function versionsOnlyGrow(sidecar: InProcessSidecar): boolean {
  return sidecar.received.every((set, i) => i === 0 || set.version >= sidecar.received[i - 1]!.version);
}
