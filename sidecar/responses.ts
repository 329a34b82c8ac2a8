// Responses the sidecar writes itself: the filter's local replies, and responses the proxy
// generates (upstream failures, a full pool, a client too slow), which pass through the filter's
// response callbacks as Envoy's do. Plus the response flags the host's table does not name.
import type http from "node:http";
import { HeaderMap, responseFlagsMask, type HttpStream, type LocalReply } from "../filter/host/index.js";
import type { SidecarMetrics } from "./sidecar-metrics.js";

/** Hop-by-hop headers (RFC 9110 §7.6.1) that a proxy does not forward. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "host"]);

/**
 * Envoy response flags (bits of StreamInfo::ResponseFlag, as the filter reads `response.flags`)
 * that the host's named table does not list: DC, downstream connection termination (the client
 * went away), and SI, stream idle timeout (the client went silent).
 */
export const FLAG_DC = 0x4000;
export const FLAG_SI = 0x10000;

/** Bits of a response flag given by its short name in the host's table ("UF", "UT", "UO", …). */
export function flag(name: string): number {
  return responseFlagsMask([name]);
}

/** Headers for Node from a header map: no pseudo-headers, no hop-by-hop headers. */
export function outgoingHeaders(map: HeaderMap): string[] {
  const out: string[] = [];
  const e = map.entries;
  for (let i = 0; i < e.length; i += 2) {
    const k = e[i]!;
    if (k.charCodeAt(0) === 58 /* ":" */ || HOP_BY_HOP.has(k)) continue;
    out.push(k, e[i + 1]!);
  }
  return out;
}

/** Options of a generated response beyond status and body. */
export interface GeneratedOptions {
  /** Extra headers, e.g. x-envoy-overloaded. */
  headers?: Array<[string, string]>;
  /** Close the client's connection after the response (its request body was not read to the end). */
  close?: boolean;
}

export function sendLocalReply(metrics: SidecarMetrics, res: http.ServerResponse, reply: LocalReply, close = false): void {
  metrics.localReply();
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers = outgoingHeaders(reply.headers);
  if (!reply.headers.has("content-length")) headers.push("content-length", String(reply.body.length));
  if (reply.details !== "") headers.push("x-autoglm-response-details", reply.details);
  if (close) headers.push("connection", "close");
  res.writeHead(reply.status, headers);
  res.end(reply.body);
}

/**
 * A response the proxy itself produces: it passes through the filter like Envoy's, so the filter
 * sees its status (and the response flags set on the stream before) in proxy_on_log.
 */
export function generatedResponse(
  metrics: SidecarMetrics,
  stream: HttpStream,
  res: http.ServerResponse,
  status: number,
  body: string,
  options: GeneratedOptions = {},
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const bytes = new TextEncoder().encode(body);
  const headers = HeaderMap.from([
    [":status", String(status)],
    ["content-type", "text/plain"],
    ["content-length", String(bytes.length)],
    ...(options.headers ?? []),
  ]);
  stream.sendResponseHeaders(headers, false);
  if (stream.localReply !== null) {
    sendLocalReply(metrics, res, stream.localReply, options.close);
    return;
  }
  stream.sendResponseBody(bytes, true);
  const out = stream.forwardedBody.length > 0 ? stream.forwardedBody : stream.takeBufferedResponseBody();
  const finalHeaders = stream.responseHeaders!;
  finalHeaders.replace("content-length", String(out.length));
  const outHeaders = outgoingHeaders(finalHeaders);
  if (options.close === true) outHeaders.push("connection", "close");
  res.writeHead(Number(finalHeaders.get(":status") ?? status), outHeaders);
  res.end(out);
}
