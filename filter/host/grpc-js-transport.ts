// gRPC over the network with @grpc/grpc-js: each stream is a client stream (bidi) on a channel to
// the address the cluster name maps to. Messages stay raw bytes (identity serializers), metadata
// from the module (e.g. authorization: Bearer …) is passed through. Reconnecting is the module's
// job: it sees the close and opens a new stream.
import * as grpc from "@grpc/grpc-js";
import type { GrpcEvents, GrpcRequest, GrpcStreamHandle, GrpcTransport } from "./grpc-transport.js";
import type { HeaderPairs } from "./header-map.js";

export interface GrpcJsTransportOptions {
  /** Cluster name → "host:port". */
  clusters: Record<string, string>;
  /** Channel credentials (default: insecure, for loopback). */
  credentials?: grpc.ChannelCredentials;
}

const identity = (b: Buffer): Buffer => b;

function metadataPairs(md: grpc.Metadata): HeaderPairs {
  const out: HeaderPairs = [];
  for (const [key, values] of Object.entries(md.getMap())) {
    out.push([key, typeof values === "string" ? values : Buffer.from(values).toString("base64")]);
  }
  return out;
}

export class GrpcJsTransport implements GrpcTransport {
  private readonly clients = new Map<string, grpc.Client>();

  constructor(private readonly options: GrpcJsTransportOptions) {}

  private client(address: string): grpc.Client {
    let client = this.clients.get(address);
    if (client === undefined) {
      client = new grpc.Client(address, this.options.credentials ?? grpc.credentials.createInsecure());
      this.clients.set(address, client);
    }
    return client;
  }

  open(request: GrpcRequest, events: GrpcEvents): GrpcStreamHandle | null {
    const address = this.options.clusters[request.cluster];
    if (address === undefined) return null;
    const metadata = new grpc.Metadata();
    for (const [key, value] of request.metadata) {
      // Pseudo-headers and transport headers are grpc-js's business.
      if (key.startsWith(":") || key === "content-type" || key === "te") continue;
      metadata.add(key, value);
    }
    const callOptions: grpc.CallOptions = {};
    if (request.timeoutMs > 0) callOptions.deadline = Date.now() + request.timeoutMs;
    const call = this.client(address).makeBidiStreamRequest(
      `/${request.service}/${request.method}`,
      identity,
      identity,
      metadata,
      callOptions,
    );
    let closed = false;
    call.on("metadata", (md: grpc.Metadata) => events.onInitialMetadata(metadataPairs(md)));
    call.on("data", (data: Buffer) => events.onMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
    call.on("error", () => {
      // The status event that always follows carries code and details.
    });
    call.on("status", (status: grpc.StatusObject) => {
      if (closed) return;
      closed = true;
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
      },
    };
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}
