// Properties (proxy_get_property / proxy_set_property). A property path is a list of segments; on
// the wire the segments are joined with "\0" (e.g. "request\0path"). Values are encoded the way
// Envoy encodes attribute values: strings as UTF-8 bytes, integers as 8-byte little-endian int64,
// booleans as one byte, byte arrays as is, maps (e.g. request.headers) in the pairs encoding.
import { decodeUtf8, encodeUtf8 } from "./memory.js";
import { HeaderMap, serializePairs } from "./header-map.js";

/** A property value as the embedder sets it. Numbers must be integers (sent as int64). */
export type PropertyValue = string | number | bigint | boolean | Uint8Array;

/** A property path: dotted ("node.metadata.REGION") or as explicit segments (for keys holding dots). */
export type PropertyPath = string | readonly string[];

/** The wire key of a path: segments joined with "\0". */
export function propertyKey(path: PropertyPath): string {
  return typeof path === "string" ? path.split(".").join("\0") : path.join("\0");
}

/** Encodes a value as Envoy would return it. */
export function encodePropertyValue(value: PropertyValue): Uint8Array {
  if (typeof value === "string") return encodeUtf8(value);
  if (value instanceof Uint8Array) return value;
  if (typeof value === "boolean") return Uint8Array.of(value ? 1 : 0);
  const out = new Uint8Array(8);
  const big = typeof value === "bigint" ? value : BigInt(Math.trunc(value));
  new DataView(out.buffer).setBigInt64(0, big, true);
  return out;
}

/**
 * Envoy's response flags (envoy/stream_info/stream_info.h): `response.flags` is the int64 of
 * StreamInfo::legacyResponseFlags(), bit n set for CoreResponseFlag n (the enum's order:
 * FailedLocalHealthCheck is bit 0, DownstreamConnectionTermination bit 14, StreamIdleTimeout bit
 * 16, DownstreamRemoteReset bit 28). Their short names are what access logs print.
 */
export const RESPONSE_FLAGS: Readonly<Record<string, number>> = {
  LH: 0x1, // failed local health check
  UH: 0x2, // no healthy upstream
  UT: 0x4, // upstream request timeout
  LR: 0x8, // local reset
  UR: 0x10, // upstream remote reset
  UF: 0x20, // upstream connection failure
  UC: 0x40, // upstream connection termination
  UO: 0x80, // upstream overflow
  NR: 0x100, // no route found
  DI: 0x200, // delay injected
  FI: 0x400, // fault injected
  RL: 0x800, // rate limited
  DC: 0x4000, // downstream connection termination (the client went away)
  URX: 0x8000, // upstream retry limit exceeded
  SI: 0x10000, // stream idle timeout (a local 408 when no response had started)
  DR: 0x10000000, // downstream remote reset (the client reset its stream)
};

/** The bitmask of response flags given by short names ("UF", "UT", …); unknown names throw. */
export function responseFlagsMask(names: readonly string[]): number {
  let mask = 0;
  for (const name of names) {
    const bit = RESPONSE_FLAGS[name];
    if (bit === undefined) throw new Error(`unknown response flag "${name}"; known: ${Object.keys(RESPONSE_FLAGS).join(", ")}`);
    mask |= bit;
  }
  return mask;
}

/** A set of properties keyed by wire key, with their encoded values. */
export class PropertyStore {
  private readonly values = new Map<string, Uint8Array>();

  constructor(initial?: Record<string, PropertyValue>) {
    if (initial !== undefined) for (const [path, value] of Object.entries(initial)) this.set(path, value);
  }

  set(path: PropertyPath, value: PropertyValue): void {
    this.values.set(propertyKey(path), encodePropertyValue(value));
  }

  /** Sets an already encoded value under a wire key (used by proxy_set_property). */
  setRaw(key: string, value: Uint8Array): void {
    this.values.set(key, value);
  }

  delete(path: PropertyPath): void {
    this.values.delete(propertyKey(path));
  }

  /** The encoded value at a wire key, or undefined. */
  getRaw(key: string): Uint8Array | undefined {
    return this.values.get(key);
  }

  /** Keys that start with `prefix\0` (for maps such as node.metadata). */
  childrenOf(prefix: string): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    const p = prefix + "\0";
    for (const [k, v] of this.values) if (k.startsWith(p) && !k.slice(p.length).includes("\0")) out.set(k.slice(p.length), v);
    return out;
  }
}

/** What a stream knows that request/response properties derive from. */
export interface StreamPropertySource {
  requestHeaders: HeaderMap;
  responseHeaders: HeaderMap | null;
  /** Properties the embedder (or the module, via proxy_set_property) set on this stream. */
  properties: PropertyStore | null;
}

/** A resolved property: encoded bytes, or a string the host writes as UTF-8. */
export type ResolvedProperty = Uint8Array | string | undefined;

/**
 * Resolves a wire key for a stream (or for the root context when `stream` is null): properties set
 * explicitly on the stream win, then values derived from its headers, then plugin-wide properties.
 */
export function resolveProperty(
  key: string,
  stream: StreamPropertySource | null,
  plugin: PropertyStore,
): ResolvedProperty {
  if (stream !== null) {
    const own = stream.properties?.getRaw(key);
    if (own !== undefined) return own;
    const derived = deriveFromHeaders(key, stream);
    if (derived !== undefined) return derived;
  }
  const fromPlugin = plugin.getRaw(key);
  if (fromPlugin !== undefined) return fromPlugin;
  if (key === "node\0metadata") {
    const children = plugin.childrenOf("node\0metadata");
    if (children.size === 0) return undefined;
    const entries: string[] = [];
    for (const [k, v] of children) entries.push(k, decodeUtf8(v));
    return serializePairs(entries);
  }
  return undefined;
}

function deriveFromHeaders(key: string, stream: StreamPropertySource): ResolvedProperty {
  const req = stream.requestHeaders;
  switch (key) {
    case "request\0path":
      return header(req, ":path");
    case "request\0url_path": {
      const path = req.get(":path");
      return path === undefined ? undefined : path.split("?")[0]!;
    }
    case "request\0query": {
      const path = req.get(":path");
      if (path === undefined) return undefined;
      const q = path.indexOf("?");
      return q < 0 ? "" : path.slice(q + 1);
    }
    case "request\0method":
      return header(req, ":method");
    case "request\0host":
      return header(req, ":authority");
    case "request\0scheme":
      return header(req, ":scheme");
    case "request\0id":
      return header(req, "x-request-id");
    case "request\0referer":
      return header(req, "referer");
    case "request\0useragent":
      return header(req, "user-agent");
    case "request\0headers":
      return serializePairs(req.entries);
    case "response\0headers":
      return stream.responseHeaders === null ? undefined : serializePairs(stream.responseHeaders.entries);
    case "response\0code": {
      const status = stream.responseHeaders?.get(":status");
      return status === undefined ? undefined : encodePropertyValue(Number(status));
    }
  }
  if (key.startsWith("request\0headers\0")) return header(req, key.slice("request\0headers\0".length));
  if (key.startsWith("response\0headers\0") && stream.responseHeaders !== null) {
    return header(stream.responseHeaders, key.slice("response\0headers\0".length));
  }
  return undefined;
}

function header(map: HeaderMap, name: string): string | undefined {
  return map.get(name);
}
