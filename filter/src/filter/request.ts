// One HTTP request through the filter: headers in (request id, trace context, markers, the
// chosen cluster or a local 503), timings and outcome out (recorded at the end of the stream).
import { HttpContext } from "../abi/context";
import { getHeader, getProperty, log, logEnabled, nowNs, propertyPath, removeHeader, replaceHeader } from "../abi/hostcalls";
import { Action, LogLevel, MapType } from "../abi/types";
import { NONE } from "../core/balancer";
import { nextTraceparent, TraceDecision } from "../core/traceparent";
import { FilterConfig } from "../config";
import { sendLocal503, WHY_UNCONFIGURED } from "./localreply";
import {
  CLASS_RESET, CLASS_TIMEOUT, classifyResponseFlags, classOfStatus, isGrpcServerError, parseSmallInt,
  RESPONSE_FLAGS_RESET, RESPONSE_FLAGS_TIMEOUT,
} from "./outcome";
import { FilterRoot, HeaderKeys } from "./root";

const RESPONSE_FLAGS_PATH = propertyPath(["response", "flags"]);
const trace = new TraceDecision();

export class RequestContext extends HttpContext {
  root: FilterRoot;
  /** Chosen cluster index, NONE until routed (and for local replies). */
  cluster: i32 = NONE;
  localReply: bool = false;
  /** Host times, nanoseconds: request headers, response headers (0: none), end of stream (0: not yet). */
  startNs: u64 = 0;
  headersNs: u64 = 0;
  endNs: u64 = 0;
  /** Response :status (0: no response headers). */
  status: i32 = 0;
  isGrpc: bool = false;
  /** grpc-status from headers or trailers (-1: none). */
  grpcStatus: i32 = -1;

  constructor(contextId: u32, root: FilterRoot) {
    super(contextId);
    this.root = root;
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): i32 {
    const root = this.root;
    if (root.config === null) {
      if (root.failOpenUnconfigured()) return Action.CONTINUE;
      this.localReply = true;
      sendLocal503(WHY_UNCONFIGURED, "the autoglm filter has no valid configuration", "", 5);
      return Action.PAUSE;
    }
    const c = root.config as FilterConfig;
    const keys = root.keys as HeaderKeys;
    const now = nowNs();
    this.startNs = now;
    const nowMs = now / 1000000;

    const explicit = keys.explicitCluster !== null
      ? getHeader(MapType.HTTP_REQUEST_HEADERS, keys.explicitCluster as ArrayBuffer)
      : null;
    const route = root.routeRequest(explicit, nowMs);
    if (route.cluster == NONE) {
      this.localReply = true;
      sendLocal503(route.why, route.message, route.replyCluster, route.retryAfterS);
      return Action.PAUSE;
    }
    this.cluster = route.cluster;

    if (getHeader(MapType.HTTP_REQUEST_HEADERS, keys.requestId) === null) {
      replaceHeader(MapType.HTTP_REQUEST_HEADERS, keys.requestId, root.requestIds.next());
    }
    nextTraceparent(getHeader(MapType.HTTP_REQUEST_HEADERS, keys.traceparent), root.rng, trace);
    replaceHeader(MapType.HTTP_REQUEST_HEADERS, keys.traceparent, trace.header);
    // A restarted trace drops the vendor state that belonged to the rejected one.
    if (!trace.continued) removeHeader(MapType.HTTP_REQUEST_HEADERS, keys.tracestate);
    replaceHeader(MapType.HTTP_REQUEST_HEADERS, keys.cluster, unchecked(root.names[route.cluster]));
    replaceHeader(MapType.HTTP_REQUEST_HEADERS, keys.node, c.nodeId);
    replaceHeader(MapType.HTTP_REQUEST_HEADERS, keys.version, root.versionText);
    return Action.CONTINUE;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): i32 {
    if (this.cluster == NONE || this.localReply) return Action.CONTINUE;
    const keys = this.root.keys as HeaderKeys;
    const now = nowNs();
    this.headersNs = now;
    if (endOfStream) this.endNs = now;
    const status = getHeader(MapType.HTTP_RESPONSE_HEADERS, keys.status);
    this.status = status === null ? 0 : parseSmallInt(status as string);
    if (this.status < 0) this.status = 0;
    const contentType = getHeader(MapType.HTTP_RESPONSE_HEADERS, keys.contentType);
    if (contentType !== null && (contentType as string).startsWith("application/grpc")) {
      this.isGrpc = true;
      const g = getHeader(MapType.HTTP_RESPONSE_HEADERS, keys.grpcStatus); // trailers-only responses
      if (g !== null) this.grpcStatus = parseSmallInt(g as string);
    }
    if ((this.root.config as FilterConfig).latencyHeader) {
      const us = now > this.startNs ? (now - this.startNs) / 1000 : 0;
      replaceHeader(MapType.HTTP_RESPONSE_HEADERS, keys.latency, us.toString());
    }
    return Action.CONTINUE;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): i32 {
    if (endOfStream && this.cluster != NONE && this.endNs == 0) this.endNs = nowNs();
    return Action.CONTINUE;
  }

  onResponseTrailers(numTrailers: u32): i32 {
    if (this.cluster == NONE) return Action.CONTINUE;
    this.endNs = nowNs();
    if (this.isGrpc) {
      const g = getHeader(MapType.HTTP_RESPONSE_TRAILERS, (this.root.keys as HeaderKeys).grpcStatus);
      if (g !== null) this.grpcStatus = parseSmallInt(g as string);
    }
    return Action.CONTINUE;
  }

  onLog(): void {
    if (this.cluster == NONE || this.localReply || this.root.config === null) return;
    const now = nowNs();
    const end = this.endNs != 0 ? this.endNs : now;
    const totalUs = end > this.startNs ? (end - this.startNs) / 1000 : 0;
    const headersUs = this.headersNs == 0 ? u64.MAX_VALUE
      : (this.headersNs > this.startNs ? (this.headersNs - this.startNs) / 1000 : 0);
    // Response flags matter only when the upstream did not answer well: read them then.
    let flags = 0;
    if (this.status == 0 || this.status >= 500) flags = classifyResponseFlags(getProperty(RESPONSE_FLAGS_PATH));
    const timeout = flags == RESPONSE_FLAGS_TIMEOUT;
    const reset = flags == RESPONSE_FLAGS_RESET || (this.status == 0 && !timeout);
    let outcomeClass: i32;
    if (timeout) outcomeClass = CLASS_TIMEOUT;
    else if (reset) outcomeClass = CLASS_RESET;
    else outcomeClass = classOfStatus(this.status);
    const grpcError = this.isGrpc && isGrpcServerError(this.grpcStatus);
    const is5xx = this.status >= 500;
    const failed = is5xx || timeout || reset || grpcError;
    this.root.recordOutcome(this.cluster, outcomeClass, is5xx, timeout, reset, grpcError, failed,
      headersUs, totalUs, now / 1000000);
    if (failed && logEnabled(LogLevel.DEBUG)) {
      log(LogLevel.DEBUG, "autoglm: request to " + unchecked(this.root.names[this.cluster]) + " failed (status " +
        this.status.toString() + ")");
    }
  }
}
