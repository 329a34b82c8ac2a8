// gRPC over the network with @grpc/grpc-js: each stream is a client stream (bidi) on a channel of
// its own to the address the cluster name maps to. Messages stay raw bytes (identity
// serializers), metadata from the module (e.g. authorization: Bearer …) is passed through.
//
// Reconnecting is the module's job: it sees the close and opens a new stream when its own backoff
// says so (reconnect_base_ms .. reconnect_max_ms). A shared grpc-js channel would add a backoff of
// its own (1 s growing by 1.6x to 120 s, kept per address in a process-wide subchannel pool)
// during which every new stream fails at once, so a control plane that came back would be reached
// only tens of seconds later. Hence a fresh channel per stream, with a subchannel pool of its own
// (no backoff state is shared), closed when the stream ends: a stream connects when it is opened
// and fails fast (UNAVAILABLE) when the connection does. Streams are long-lived, so one
// connection each costs little.
//
// A cluster may list several endpoints (the control plane run as several replicas): each new stream
// goes to the next one in turn, skipping for a while one whose connection failed or was lost, as
// Envoy's round-robin load balancer with outlier detection does (endpoint-picker.ts). A sidecar
// whose replica died thus reconnects to another with its next attempt.
import * as grpc from "@grpc/grpc-js";
import { EndpointPicker } from "./endpoint-picker.js";
import type { GrpcEvents, GrpcRequest, GrpcStreamHandle, GrpcTransport } from "./grpc-transport.js";
import type { HeaderPairs } from "./header-map.js";

export interface GrpcJsTransportOptions {
  /** Cluster name → "host:port", or several (read when a stream opens: a test may fill it later). */
  clusters: Record<string, string | readonly string[]>;
  /** Channel credentials (default: insecure, for loopback). */
  credentials?: grpc.ChannelCredentials;
  /** How long an endpoint whose connection failed or was lost is skipped, ms (default 30 s). */
  ejectionMs?: number;
  /** Where each cluster's round-robin starts (spreads sidecars over the endpoints); default 0. */
  firstEndpoint?: number;
  /** Wall-clock time for ejections, epoch ms (default Date.now). */
  now?: () => number;
  /** Called with the endpoint each new stream goes to (logs, tests). */
  onPick?: (cluster: string, address: string) => void;
}

const identity = (b: Buffer): Buffer => b;

/** Options of each stream's channel (see the top of this file). */
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.use_local_subchannel_pool": 1,
  // Channelz would keep a registry entry per short-lived channel for nothing.
  "grpc.enable_channelz": 0,
};

function metadataPairs(md: grpc.Metadata): HeaderPairs {
  const out: HeaderPairs = [];
  for (const [key, values] of Object.entries(md.getMap())) {
    out.push([key, typeof values === "string" ? values : Buffer.from(values).toString("base64")]);
  }
  return out;
}

export class GrpcJsTransport implements GrpcTransport {
  /** The channels of open streams. */
  private readonly clients = new Set<grpc.Client>();
  /** Per cluster: its endpoints as last read and the picker over them. */
  private readonly pickers = new Map<string, EndpointPicker>();

  constructor(private readonly options: GrpcJsTransportOptions) {}

  /** The endpoint the next stream to `cluster` goes to; undefined when the cluster is unknown. */
  private pick(cluster: string): { address: string; picker: EndpointPicker } | undefined {
    const configured = this.options.clusters[cluster];
    if (configured === undefined) return undefined;
    const endpoints = typeof configured === "string" ? [configured] : configured;
    if (endpoints.length === 0) return undefined;
    let picker = this.pickers.get(cluster);
    if (picker === undefined || picker.endpoints.length !== endpoints.length || picker.endpoints.some((e, i) => e !== endpoints[i])) {
      picker = new EndpointPicker([...endpoints], this.options.ejectionMs, this.options.firstEndpoint ?? 0);
      this.pickers.set(cluster, picker);
    }
    return { address: picker.pick(this.now()), picker };
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  open(request: GrpcRequest, events: GrpcEvents): GrpcStreamHandle | null {
    const picked = this.pick(request.cluster);
    if (picked === undefined) return null;
    const { address, picker } = picked;
    this.options.onPick?.(request.cluster, address);
    const metadata = new grpc.Metadata();
    for (const [key, value] of request.metadata) {
      // Pseudo-headers and transport headers are grpc-js's business.
      if (key.startsWith(":") || key === "content-type" || key === "te") continue;
      metadata.add(key, value);
    }
    const callOptions: grpc.CallOptions = {};
    if (request.timeoutMs > 0) callOptions.deadline = Date.now() + request.timeoutMs;
    // The :authority Envoy would send (GrpcService's envoy_grpc.authority), when one was given.
    const options = request.authority !== undefined && request.authority !== request.cluster
      ? { ...CHANNEL_OPTIONS, "grpc.default_authority": request.authority }
      : CHANNEL_OPTIONS;
    const client = new grpc.Client(address, this.options.credentials ?? grpc.credentials.createInsecure(), options);
    this.clients.add(client);
    const release = (): void => {
      if (this.clients.delete(client)) client.close();
    };
    const call = client.makeBidiStreamRequest(
      `/${request.service}/${request.method}`,
      identity,
      identity,
      metadata,
      callOptions,
    );
    let closed = false;
    call.on("metadata", (md: grpc.Metadata) => events.onInitialMetadata(metadataPairs(md)));
    call.on("data", (data: Buffer) => {
      picker.succeeded(address);
      events.onMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    });
    call.on("error", () => {
      // The status event that always follows carries code and details.
    });
    call.on("status", (status: grpc.StatusObject) => {
      if (closed) return;
      closed = true;
      release();
      if (status.code === grpc.status.UNAVAILABLE) picker.failed(address, this.now());
      events.onTrailingMetadata(metadataPairs(status.metadata));
      events.onClose(status.code, status.details);
    });
    return {
      send: (message) => {
        if (!closed) call.write(Buffer.from(message.buffer, message.byteOffset, message.byteLength));
      },
      halfClose: () => {
        if (!closed) call.end();
      },
      cancel: () => {
        closed = true;
        call.cancel();
        release();
      },
    };
  }

  close(): void {
    for (const client of this.clients) client.close();
    this.clients.clear();
  }
}
