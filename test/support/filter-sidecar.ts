// A sidecar running the real filter (build/filter.wasm) in the project's proxy-wasm host on the
// wall clock, its control-plane stream over real gRPC to a cluster of several endpoints (the
// replicas), as Envoy would run it. It records what the filter receives (every decision set) and
// what it acknowledges (the version it enforces), and which replica each stream went to.
// Requests are pushed through the filter by the test (`traffic`), answered 503 by the clusters
// the test marks failing.
import { fromBinary } from "@bufbuild/protobuf";
import { ControlMessageSchema, SidecarMessageSchema } from "../../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { decisionSetFromProto } from "../../control-plane/src/grpc/convert.js";
import type { DecisionSet } from "../../control-plane/src/core/types.js";
import { GrpcJsTransport, ProxyWasmPlugin, type GrpcEvents, type GrpcRequest, type GrpcStreamHandle, type GrpcTransport } from "../../filter/host/index.js";

export const CONTROL_PLANE_CLUSTER = "autoglm-control-plane";

export interface FilterSidecarOptions {
  nodeId: string;
  wasm: string;
  /** The replicas' gRPC addresses (the control-plane cluster's endpoints). */
  endpoints: readonly string[];
  /** The endpoint its first stream goes to (an index into endpoints). */
  firstEndpoint: number;
  /** The upstream clusters, equal base weights. */
  clusters: readonly string[];
  token: string;
  /** The filter's reconnect backoff, ms. */
  reconnectBaseMs: number;
  reconnectMaxMs: number;
}

export interface ReceivedSet {
  /** Wall clock when it arrived, epoch ms. */
  atMs: number;
  /** The endpoint of the stream it came on. */
  endpoint: string;
  decisions: DecisionSet;
}

export interface FilterSidecar {
  readonly nodeId: string;
  readonly plugin: ProxyWasmPlugin;
  /** Every decision set the filter received, in order. */
  readonly received: ReceivedSet[];
  /** Every version the filter acknowledged (enforces), in order. */
  readonly acked: number[];
  /** The endpoint of its newest stream, and when that stream got its first message (epoch ms;
   *  undefined until it did). */
  current(): { endpoint: string | undefined; answeredAtMs: number | undefined };
  /** Sends `n` requests through the filter; those routed to a `failing` cluster get a 503. */
  traffic(n: number, failing: ReadonlySet<string>): void;
  close(): void;
}

export async function startFilterSidecar(options: FilterSidecarOptions): Promise<FilterSidecar> {
  const received: ReceivedSet[] = [];
  const acked: number[] = [];
  let endpoint: string | undefined;
  let answeredAtMs: number | undefined;
  let picked: string | undefined;
  const inner = new GrpcJsTransport({
    clusters: { [CONTROL_PLANE_CLUSTER]: options.endpoints },
    firstEndpoint: options.firstEndpoint,
    onPick: (_cluster, address) => (picked = address),
  });
  // Records the stream's traffic on its way between the filter and gRPC.
  const recording: GrpcTransport = {
    open(request: GrpcRequest, events: GrpcEvents): GrpcStreamHandle | null {
      let streamEndpoint = "";
      let answered = false;
      const handle = inner.open(request, {
        onInitialMetadata: (md) => events.onInitialMetadata(md),
        onMessage: (bytes) => {
          if (!answered) {
            answered = true;
            if (endpoint === streamEndpoint) answeredAtMs = Date.now();
          }
          const message = fromBinary(ControlMessageSchema, bytes);
          if (message.kind.case === "decisions") received.push({ atMs: Date.now(), endpoint: streamEndpoint, decisions: decisionSetFromProto(message.kind.value) });
          events.onMessage(bytes);
        },
        onTrailingMetadata: (md) => events.onTrailingMetadata(md),
        onClose: (code, message) => events.onClose(code, message),
      });
      if (handle === null) return null;
      streamEndpoint = picked ?? "";
      endpoint = streamEndpoint;
      answeredAtMs = undefined;
      return {
        send: (bytes) => {
          const message = fromBinary(SidecarMessageSchema, bytes);
          if (message.kind.case === "ack") acked.push(Number(message.kind.value.version));
          handle.send(bytes);
        },
        halfClose: () => handle.halfClose(),
        cancel: () => handle.cancel(),
      };
    },
    close: () => inner.close(),
  };
  const plugin = await ProxyWasmPlugin.start({
    wasm: options.wasm,
    configuration: {
      node_id: options.nodeId,
      zone: "zone-a",
      window_ms: 1000,
      control_plane: {
        cluster: CONTROL_PLANE_CLUSTER,
        timeout_ms: 5000,
        token: options.token,
        reconnect_base_ms: options.reconnectBaseMs,
        reconnect_max_ms: options.reconnectMaxMs,
      },
      clusters: options.clusters.map((name) => ({ name, weight: 1 })),
    },
    workers: 1,
    grpc: recording,
    properties: { "node.id": options.nodeId },
    // The filter warns of every lost stream; a test that kills replicas expects them.
    logLevel: "error",
  });
  return {
    nodeId: options.nodeId,
    plugin,
    received,
    acked,
    current: () => ({ endpoint, answeredAtMs }),
    traffic(n, failing) {
      for (let i = 0; i < n; i++) {
        const stream = plugin.createHttpStream();
        stream.sendRequestHeaders([[":method", "POST"], [":path", "/v1/chat"], [":authority", "llm"], [":scheme", "http"]], true);
        if (stream.localReply === null) {
          const cluster = stream.requestHeaders.get("x-autoglm-cluster") ?? "";
          stream.sendResponseHeaders([[":status", failing.has(cluster) ? "503" : "200"]], true);
        }
        stream.complete();
      }
    },
    close() {
      plugin.close();
      recording.close?.();
    },
  };
}
