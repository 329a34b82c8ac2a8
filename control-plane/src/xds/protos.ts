// Envoy's v3 API protos, loaded once into ONE protobufjs root from the copies shipped in
// @grpc/grpc-js-xds (deps/envoy-api, deps/xds, deps/googleapis, deps/protoc-gen-validate).
//
// Every message this server puts on the wire (DiscoveryRequest/Response, the four resource types
// and the typed configs nested in them) is encoded with a type from this root. Resources are
// packed into `google.protobuf.Any` as `{ type_url, value: <bytes encoded here> }`, never as
// `{ "@type": ... }` objects: protobufjs resolves "@type" against the root that serialises the
// outer message and silently encodes an empty message when the type is not loaded there.
import { createRequire } from "node:module";
import { accessSync, constants } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import protobuf from "protobufjs";

const require = createRequire(import.meta.url);

/** Type URLs of the four xDS resource types this server serves, and of the nested typed configs. */
export const TYPE_URL = {
  listener: "type.googleapis.com/envoy.config.listener.v3.Listener",
  route: "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
  cluster: "type.googleapis.com/envoy.config.cluster.v3.Cluster",
  endpoint: "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
  httpConnectionManager:
    "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
  router: "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
  httpFault: "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
  httpProtocolOptions: "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
} as const;

const PROTO_FILES = [
  "envoy/service/discovery/v3/ads.proto",
  "envoy/config/listener/v3/listener.proto",
  "envoy/config/route/v3/route.proto",
  "envoy/config/cluster/v3/cluster.proto",
  "envoy/config/endpoint/v3/endpoint.proto",
  "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto",
  "envoy/extensions/filters/http/router/v3/router.proto",
  "envoy/extensions/filters/http/fault/v3/fault.proto",
  "envoy/extensions/upstreams/http/v3/http_protocol_options.proto",
  "envoy/service/load_stats/v3/lrs.proto",
];

/** `google.protobuf.Any` as this server builds it: the type URL and the encoded message. */
export interface PackedAny {
  type_url: string;
  value: Uint8Array;
}

function includeDirs(): string[] {
  const xdsPackage = dirname(require.resolve("@grpc/grpc-js-xds/package.json"));
  return ["envoy-api", "xds", "googleapis", "protoc-gen-validate"].map((dir) => join(xdsPackage, "deps", dir));
}

function loadRoot(): protobuf.Root {
  // descriptor.proto is imported by the validate/udpa annotations; protobufjs bundles it as JSON.
  const descriptor = require("protobufjs/google/protobuf/descriptor.json") as {
    nested: { google: { nested: { protobuf: { nested: protobuf.INamespace["nested"] } } } };
  };
  protobuf.common("descriptor", descriptor.nested.google.nested.protobuf.nested ?? {});
  const dirs = includeDirs();
  const root = new protobuf.Root();
  const fallback = root.resolvePath.bind(root);
  root.resolvePath = (origin: string, target: string): string | null => {
    if (isAbsolute(target)) return target;
    for (const dir of dirs) {
      const candidate = join(dir, target);
      try {
        accessSync(candidate, constants.R_OK);
        return candidate;
      } catch {
        // not in this include directory
      }
    }
    return fallback(origin, target);
  };
  root.loadSync(PROTO_FILES, { keepCase: true });
  root.resolveAll();
  return root;
}

let cached: protobuf.Root | undefined;

/** The shared root (loaded on first use, about a quarter of a second). */
export function envoyRoot(): protobuf.Root {
  cached ??= loadRoot();
  return cached;
}

function typeNameOf(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
}

/**
 * Encodes a plain object (snake_case field names, as in the .proto) as the message named by
 * `typeUrl`. Fails loudly, naming the type and the field, when the object does not fit the message.
 */
export function encodeMessage(typeUrl: string, message: Record<string, unknown>): Uint8Array {
  const type = envoyRoot().lookupType(typeNameOf(typeUrl));
  checkFieldNames(type, message, type.name);
  return type.encode(type.fromObject(message)).finish();
}

/**
 * protobufjs's fromObject drops fields it does not know without a word; a misspelt field would
 * vanish from the resource. This walks the object and names the first field the message lacks.
 */
function checkFieldNames(type: protobuf.Type, message: Record<string, unknown>, path: string): void {
  if (type.fullName === ".google.protobuf.Any") return;
  for (const [key, value] of Object.entries(message)) {
    const field = type.fields[key];
    if (field === undefined) throw new Error(`xds: ${path}.${key} is not a field of ${type.fullName.slice(1)}`);
    const fieldType = field.resolve().resolvedType;
    if (!(fieldType instanceof protobuf.Type) || value === null || value === undefined) continue;
    const items = field.map ? Object.values(value as object) : Array.isArray(value) ? value : [value];
    items.forEach((item, index) => {
      if (typeof item === "object" && !(item instanceof Uint8Array)) {
        const where = Array.isArray(value) ? `${path}.${key}[${index}]` : `${path}.${key}`;
        checkFieldNames(fieldType, item as Record<string, unknown>, where);
      }
    });
  }
}

/** Encodes `message` and wraps it in an Any of type `typeUrl`. */
export function packAny(typeUrl: string, message: Record<string, unknown>): PackedAny {
  return { type_url: typeUrl, value: encodeMessage(typeUrl, message) };
}

/** Options for decoding into plain objects: the same choices @grpc/grpc-js-xds makes. */
export const TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

/** Decodes bytes of the message named by `typeUrl` into a plain object (snake_case names). */
export function decodeMessage(typeUrl: string, bytes: Uint8Array): Record<string, unknown> {
  const type = envoyRoot().lookupType(typeNameOf(typeUrl));
  return type.toObject(type.decode(bytes), TO_OBJECT) as Record<string, unknown>;
}
