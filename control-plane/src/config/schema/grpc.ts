// The `grpc` section: the server sidecars stream telemetry to (autoglm.v1.TrafficGuard/Connect).
import { allowNonLoopbackSchema, hostSchema, objectSchema, portSchema, tlsSchema } from "./common.js";
import { DEFAULTS } from "../defaults.js";

export const GRPC_SCHEMA = objectSchema("The gRPC server sidecars stream telemetry to and receive decisions from.", {
  host: hostSchema("the gRPC server", DEFAULTS.host),
  port: portSchema("the gRPC server", DEFAULTS.grpcPort),
  token: { type: "string", default: "", description: 'Bearer token sidecars must send in `authorization`; "" accepts any stream.' },
  tls: tlsSchema("TLS of the gRPC server; absent: plaintext (loopback, tests, the demo).", true),
  allow_unauthenticated_non_loopback: allowNonLoopbackSchema("`token` is empty (any host that reaches the port may stream)"),
});
