// A sidecar worker on an in-process stream to a real ControlPlane, speaking the wire protocol
// (hello, reports, acks or nacks): for tests that need sidecars the control plane really sees,
// without the filter. It answers every decision set it receives, a tick later (never from
// inside the control plane's push).
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import {
  ClusterWindowSchema,
  ControlMessageSchema,
  LatencyHistogramSchema,
  SidecarMessageSchema,
  TelemetryReportSchema,
} from "../../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { latencyCounts } from "../../control-plane/src/core/report-builder.js";
import type { ControlPlane } from "../../control-plane/src/service.js";

/** One cluster's traffic in one report window. */
export interface ClusterTraffic {
  requests: number;
  /** Of the requests, how many answered 5xx. */
  errors5xx?: number;
  /** Every request's total latency, ms. */
  latencyMs?: number;
}

export interface WorkerOptions {
  nodeId: string;
  workerId?: number;
  zone?: string;
  clusters: readonly string[];
  /** How it answers decision sets: "ack", or a NACK with this reason (it then refuses them). */
  answer: "ack" | { nack: string };
  /** The version it says it enforces (hello, reports, NACKs). */
  enforcedVersion?: number;
  /** Stream metadata, e.g. { authorization: "Bearer <grpc.token>" }. */
  metadata?: Record<string, string>;
  /** A worker coming back: its hello names "fallback_time" and carries these times, ms. */
  back?: { disconnectedMs: number; fallbackMs: number };
}

export interface InProcessWorker {
  /** Versions of the decision sets received, in order. */
  readonly received: number[];
  /** Sends a report of the window starting at windowStartMs (epoch ms, 1 s long). */
  report(windowStartMs: number, traffic: Readonly<Record<string, ClusterTraffic>>): void;
  /** Ends the stream from the sidecar's side. */
  close(): void;
}

export function connectWorker(cp: ControlPlane, options: WorkerOptions): InProcessWorker {
  const received: number[] = [];
  const enforced = BigInt(options.enforcedVersion ?? 0);
  let sequence = 0;
  let closed = false;
  const send = (kind: MessageInitShape<typeof SidecarMessageSchema>["kind"]) => {
    if (!closed) stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind })));
  };
  const stream = cp.openInProcessStream(
    options.metadata ?? {},
    {
      onMessage: (bytes) => {
        const message = fromBinary(ControlMessageSchema, bytes);
        if (message.kind.case !== "decisions") return;
        const version = message.kind.value.version;
        received.push(Number(version));
        const answer = options.answer;
        setImmediate(() =>
          send(
            answer === "ack"
              ? { case: "ack", value: { version } }
              : { case: "nack", value: { version, reason: answer.nack, enforcedVersion: enforced } },
          ),
        );
      },
      onClose: () => {
        closed = true;
      },
    },
  );
  send({
    case: "hello",
    value: {
      nodeId: options.nodeId, zone: options.zone ?? "zone-a", workerId: options.workerId ?? 0, clusters: [...options.clusters], enforcedVersion: enforced,
      ...(options.back === undefined
        ? {}
        : { capabilities: ["fallback_time"], disconnectedMs: BigInt(options.back.disconnectedMs), fallbackMs: BigInt(options.back.fallbackMs) }),
    },
  });
  return {
    received,
    report(windowStartMs, traffic) {
      const clusters = Object.entries(traffic).map(([cluster, t]) => {
        const h = latencyCounts(new Array<number>(t.requests).fill(t.latencyMs ?? 120));
        return create(ClusterWindowSchema, {
          cluster,
          requests: t.requests,
          errors5xx: t.errors5xx ?? 0,
          totalLatency: create(LatencyHistogramSchema, { firstBucket: h.firstBucket, counts: [...h.counts], sumUs: BigInt(h.sumUs), maxUs: BigInt(h.maxUs) }),
        });
      });
      sequence++;
      const report = create(TelemetryReportSchema, {
        windowStartMs: BigInt(windowStartMs),
        windowLengthMs: 1000,
        sequence: BigInt(sequence),
        enforcedVersion: options.answer === "ack" ? BigInt(received[received.length - 1] ?? 0) : enforced,
        clusters,
      });
      send({ case: "report", value: report });
    },
    close() {
      if (closed) return;
      stream.close();
      closed = true;
    },
  };
}
