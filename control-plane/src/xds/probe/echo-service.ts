// A one-method gRPC service for probing what an xDS client does: every call is answered with the
// name of the backend that served it. Raw bytes on the wire, so no .proto is needed.
import * as grpc from "@grpc/grpc-js";

export const PROBE_METHOD_PATH = "/autoglm.xds.Probe/WhoAmI";

const identity = (bytes: Buffer): Buffer => bytes;

export interface ProbeBackend {
  name: string;
  /** The bound TCP port on 127.0.0.1. */
  port: number;
  /** Date.now() at the arrival of each call, in order. */
  arrivals: number[];
  close(): Promise<void>;
}

/** Starts a backend on 127.0.0.1 (port 0: any free port) answering every call with `name`. */
export async function startProbeBackend(name: string): Promise<ProbeBackend> {
  const server = new grpc.Server();
  const arrivals: number[] = [];
  const definition: grpc.ServiceDefinition = {
    WhoAmI: {
      path: PROBE_METHOD_PATH,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
  server.addService(definition, {
    WhoAmI: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      arrivals.push(Date.now());
      callback(null, Buffer.from(name));
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  return {
    name,
    port,
    arrivals,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000).unref();
      }),
  };
}

/** Calls WhoAmI on `client` once; resolves to the answering backend's name. */
export function callProbe(client: grpc.Client, timeoutMs: number): Promise<string> {
  const metadata = new grpc.Metadata({ waitForReady: true });
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      PROBE_METHOD_PATH,
      identity,
      identity,
      Buffer.alloc(0),
      metadata,
      { deadline: Date.now() + timeoutMs },
      (error, response) => (error ? reject(error) : resolve(response?.toString() ?? "")),
    );
  });
}
