// The gRPC server for autoglm.v1.TrafficGuard/Connect on @grpc/grpc-js. Thin: each call becomes
// a transport-neutral session of the control plane (service.ts openSession); messages travel as
// raw bytes (protobuf-es decodes them in the session). TLS with an optional client-certificate
// check, the bearer token (checked by the session), message size limits.
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "../../../lib/log.js";
import { createLogger } from "../../../lib/log.js";
import type { ControlPlane } from "../service.js";
import { DEFAULT_MAX_RECEIVE_BYTES } from "./input-limits.js";

export const CONNECT_PATH = "/autoglm.v1.TrafficGuard/Connect";

export interface GrpcTlsOptions {
  /** PEM server certificate chain and private key. */
  certChain: Buffer;
  privateKey: Buffer;
  /** PEM CA bundle that client certificates must chain to (enables client-certificate checks). */
  clientCa?: Buffer;
  /** Reject clients without a valid certificate (default true when clientCa is given). */
  requireClientCert?: boolean;
}

export interface GrpcServerOptions {
  /** Address to bind, e.g. "127.0.0.1:0" (port 0: any free port). */
  address: string;
  tls?: GrpcTlsOptions;
  /** Largest message accepted or sent, bytes. Unset: 1 MiB received (input-limits.ts), 4 MiB sent. */
  maxMessageBytes?: number;
  logger?: Logger;
}

export interface GrpcServerHandle {
  /** The bound port. */
  port: number;
  /** Stops accepting, ends every stream, resolves when the server is down. */
  close(): Promise<void>;
  /** Drops every connection at once (tests: a crashed control plane). */
  forceClose(): void;
}

const identity = (b: Buffer): Buffer => b;

/** The service definition with raw-bytes (de)serialisers. */
export const trafficGuardDefinition: grpc.ServiceDefinition = {
  Connect: {
    path: CONNECT_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    requestDeserialize: identity,
    responseSerialize: (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    responseDeserialize: identity,
  },
};

function metadataRecord(md: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(md.getMap())) out[k.toLowerCase()] = typeof v === "string" ? v : v.toString("utf8");
  return out;
}

export async function startGrpcServer(cp: ControlPlane, options: GrpcServerOptions): Promise<GrpcServerHandle> {
  const log = options.logger ?? createLogger("grpc");
  const maxBytes = options.maxMessageBytes;
  if (maxBytes !== undefined && (!Number.isInteger(maxBytes) || maxBytes < 1024)) throw new Error(`grpc.maxMessageBytes: expected an integer >= 1024, got ${maxBytes}`);
  const server = new grpc.Server({
    // grpc-js accepts 4 MiB by default; a sidecar's messages are far smaller (a report of 100
    // clusters is about 250 KiB), and every byte received is held while it is decoded.
    "grpc.max_receive_message_length": maxBytes ?? DEFAULT_MAX_RECEIVE_BYTES,
    "grpc.max_send_message_length": maxBytes ?? 4 * 1024 * 1024,
    "grpc.keepalive_time_ms": 30_000,
    "grpc.keepalive_permit_without_calls": 1,
    // One connection may carry the streams of many workers (Envoy multiplexes them).
    "grpc.max_concurrent_streams": 100_000,
  });
  const connect = (call: grpc.ServerDuplexStream<Buffer, Uint8Array>) => {
    let ended = false;
    const session = cp.openSession(
      { transport: "grpc", peer: call.getPeer(), metadata: metadataRecord(call.metadata) },
      {
        send: (bytes) => (ended ? true : call.write(bytes)),
        close: (code, details) => {
          if (ended) return;
          ended = true;
          if (code === grpc.status.OK) call.end();
          else call.emit("error", { code, details } satisfies Partial<grpc.StatusObject>);
        },
      },
    );
    call.on("data", (bytes: Buffer) => session.receive(bytes));
    call.on("drain", () => session.drained());
    const gone = (why: string) => {
      if (ended) return;
      ended = true;
      session.peerClosed(why);
    };
    call.on("end", () => {
      gone("sidecar ended the stream");
      call.end();
    });
    call.on("cancelled", () => gone("stream cancelled"));
    call.on("error", (err: Error) => {
      if (!ended) log.debug({ err: err.message }, "sidecar stream error");
      gone(`stream error: ${err.message}`);
    });
  };
  server.addService(trafficGuardDefinition, { Connect: connect } as grpc.UntypedServiceImplementation);

  const credentials =
    options.tls === undefined
      ? grpc.ServerCredentials.createInsecure()
      : grpc.ServerCredentials.createSsl(
          options.tls.clientCa ?? null,
          [{ cert_chain: options.tls.certChain, private_key: options.tls.privateKey }],
          options.tls.clientCa !== undefined && (options.tls.requireClientCert ?? true),
        );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(options.address, credentials, (err, p) => (err ? reject(new Error(`grpc: cannot bind ${options.address}: ${err.message}`)) : resolve(p))),
  );
  log.info({ address: options.address, port, tls: options.tls !== undefined }, "gRPC server listening");
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
    forceClose: () => server.forceShutdown(),
  };
}
