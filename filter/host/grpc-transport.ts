// The bridge between the host's gRPC host calls (proxy_grpc_call / proxy_grpc_stream) and a real or
// in-process gRPC peer. A call is a stream on which the host sends one message and half-closes.
import type { HeaderPairs } from "./header-map.js";

export interface GrpcRequest {
  /** The upstream cluster (e.g. "autoglm-control-plane"): the bare name the module passed, or the
   *  envoy_grpc.cluster_name of the serialized GrpcService it passed (see grpc-service.ts). */
  cluster: string;
  /** The :authority Envoy would send: GrpcService's envoy_grpc.authority, else the cluster name. */
  authority?: string;
  /** The upstream argument exactly as the module passed it. */
  upstream?: Uint8Array;
  /** Fully qualified service, e.g. "autoglm.v1.TrafficGuard". */
  service: string;
  method: string;
  /** Initial metadata from the module (keys lower-case), e.g. authorization: Bearer <token>. */
  metadata: HeaderPairs;
  /** Deadline for the whole call in ms; 0 = none. */
  timeoutMs: number;
}

/** What the peer tells the host; the host queues these and delivers them to the module later. */
export interface GrpcEvents {
  onInitialMetadata(metadata: HeaderPairs): void;
  onMessage(message: Uint8Array): void;
  onTrailingMetadata(metadata: HeaderPairs): void;
  /** The stream ended with a gRPC status code (0 = OK) and message. Called once. */
  onClose(code: number, message: string): void;
}

/** The host's side of an open stream. */
export interface GrpcStreamHandle {
  send(message: Uint8Array): void;
  /** No more messages from the host (the peer may still reply and then close). */
  halfClose(): void;
  /** Abandons the stream; no further events are expected (proxy_grpc_cancel). */
  cancel(): void;
}

export interface GrpcTransport {
  /** Opens a stream; null when the cluster is unknown (the host call then answers PARSE_FAILURE). */
  open(request: GrpcRequest, events: GrpcEvents): GrpcStreamHandle | null;
  /** Releases connections. */
  close?(): void;
}
