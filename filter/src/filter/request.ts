// One HTTP request through the filter: headers in (request id, trace context, markers, the
// chosen cluster or a local 503), timings and outcome out (recorded at the end of the stream).
// The hot path allocates nothing (contexts are recycled by FilterRoot): headers are read through
// HeaderScan (one look-up per wanted header) and written from pre-encoded bytes or static buffers.
import { HttpContext } from "../abi/context";
import { noteGarbage, SMALL_GARBAGE } from "../abi/gc";
import {
  addHeaderRaw, callForeignNoArgs, getProperty, log, logEnabled, nowNs, removeHeader, replaceHeader,
  replaceHeaderBytes, replaceHeaderRaw, utf8,
} from "../abi/hostcalls";
import { Action, LogLevel, MapType, Status } from "../abi/types";
import { NONE } from "../core/balancer";
import { REQUEST_ID_LENGTH } from "../core/requestid";
import { nextTraceparent, TRACEPARENT_LENGTH } from "../core/traceparent";
import { FilterConfig } from "../config";
import { sendLocal503, sendLocalReply, WHY_UNCONFIGURED } from "./localreply";
import { isEventStream, SseMeter } from "./sse";
import { bannedIn, CUT_BANNED, CUT_HALTED, cutChunk, dropChunk } from "./bodycut";
import { BodyScanner, DenyList } from "../core/denylist";
import { BODY_COMPRESSED, BODY_MATCHED, BODY_SCANNED } from "../wire/messages";
import {
  CLASS_RESET, CLASS_TIMEOUT, classifyResponseFlags, classOfStatus, isGrpcServerError, RESPONSE_FLAGS_DOWNSTREAM,
  RESPONSE_FLAGS_NONE, RESPONSE_FLAGS_OVERFLOW, RESPONSE_FLAGS_RESET, RESPONSE_FLAGS_STREAM_IDLE, RESPONSE_FLAGS_TIMEOUT,
} from "./outcome";
import {
  FilterRoot, HeaderKeys, REQUEST_SCAN_EXPLICIT, REQUEST_SCAN_REQUEST_ID, REQUEST_SCAN_TRACEPARENT,
  RESPONSE_SCAN_CONTENT_ENCODING, RESPONSE_SCAN_CONTENT_TYPE, RESPONSE_SCAN_STATUS, RESPONSE_SCAN_UPSTREAM_LOAD,
} from "./root";
import { dec } from "../core/numbertext";
import { sameBytes } from "../core/bytes";
import { countSource } from "./sources";
import { SourceCount } from "../wire/messages";

const RESPONSE_FLAGS_PATH = utf8("response\0flags");
const CODE_DETAILS_PATH = utf8("response\0code_details");
/** response.code_details of a response that came from the upstream (Envoy's ViaUpstream). */
const VIA_UPSTREAM = utf8("via_upstream");
/** The stream idle timeout's local reply status (Envoy's onIdleTimeout). */
const STATUS_REQUEST_TIMEOUT: i32 = 408;
/** What parsing an ORCA header may leave behind, in stream-callback units (abi/gc.ts): nothing for
 *  the TEXT form (read in place); the JSON form's decoded text and parsed values. */
const ORCA_GARBAGE: i32 = 64;
/** Static buffers the outgoing request id and traceparent are written to (the host copies them). */
const REQUEST_ID_BUFFER: usize = memory.data(REQUEST_ID_LENGTH);
const TRACEPARENT_BUFFER: usize = memory.data(TRACEPARENT_LENGTH);
const GRPC_CONTENT_TYPE = utf8("application/grpc");
/** The cluster header of an unconfigured filter (the configuration's default). */
const DEFAULT_CLUSTER_HEADER = utf8("x-autoglm-cluster");
/** Envoy's foreign function that makes the router re-resolve the route (source/extensions/common/
 *  wasm/foreign.cc, added by envoyproxy/envoy#36671, in Envoy 1.33+; older Envoy answers NOT_FOUND).
 *  Envoy 1.33's release notes: the route cache is no longer cleared automatically on a request
 *  header change only for modules of an ABI newer than 0.2.1; this module is 0.2.1, so the call is
 *  belt and braces where it exists, and is tried once per worker where it does not. */
const CLEAR_ROUTE_CACHE = utf8("clear_route_cache");

/** A non-negative decimal of len bytes at ptr (a status code); -1 when not one. */
function parseDecimal(ptr: usize, len: i32): i32 {
  if (len <= 0 || len > 9) return -1;
  let v = 0;
  for (let i = 0; i < len; i++) {
    const c = <i32>load<u8>(ptr + <usize>i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** "identity" as a little-endian u64 (its 8 bytes in memory order). */
const IDENTITY_U64: u64 = 0x797469746e656469;

/** Whether a Content-Encoding value (len bytes at ptr) is "identity" or empty (RFC 9110, 8.4.1:
 *  no encoding); any other coding (gzip, br, zstd, ...) is compressed. */
function isIdentity(ptr: usize, len: i32): bool {
  return len == 0 || (len == 8 && load<u64>(ptr) == IDENTITY_U64);
}

export class RequestContext extends HttpContext {
  root: FilterRoot;
  /** Chosen cluster index, NONE until routed (and for local replies). */
  cluster: i32 = NONE;
  localReply: bool = false;
  /** Host times, nanoseconds: request headers, response headers (0: none), end of stream (0: not yet). */
  startNs: u64 = 0;
  /** Start of the telemetry window that counted the request as sent (Unix ms). */
  sentWindowMs: u64 = 0;
  headersNs: u64 = 0;
  endNs: u64 = 0;
  /** Response :status (0: no response headers). */
  status: i32 = 0;
  isGrpc: bool = false;
  /** grpc-status from headers or trailers (-1: none). */
  grpcStatus: i32 = -1;
  /** The whole request has arrived from the client (its end of stream was seen). */
  requestDone: bool = false;
  /** The response is a stream of server-sent events (Content-Type text/event-stream). */
  sse: bool = false;
  /** Its chunks and last bytes; made for the context's first stream, kept when it is recycled. */
  meter: SseMeter | null = null;
  /** The response body is scanned for banned output (a deny-list is configured, the body is not
   *  compressed); the scan's carry, kept when the context is recycled. */
  scanBody: bool = false;
  scanner: BodyScanner | null = null;
  /** The filter cut the response (banned output, an immediate halt): later chunks are dropped. */
  cut: bool = false;
  /** The request's source's counts in the root's sketch (null: not counted) and its key then
   *  (the counts are another source's once their key differs). */
  source: SourceCount | null = null;
  sourceKey: u64 = 0;

  constructor(contextId: u32, root: FilterRoot) {
    super(contextId);
    this.root = root;
  }

  /** Makes a recycled context new for stream `contextId`: every field as a fresh one has it. */
  reset(contextId: u32): void {
    this.contextId = contextId;
    this.cluster = NONE;
    this.localReply = false;
    this.startNs = 0;
    this.sentWindowMs = 0;
    this.headersNs = 0;
    this.endNs = 0;
    this.status = 0;
    this.isGrpc = false;
    this.grpcStatus = -1;
    this.requestDone = false;
    this.sse = false;
    this.scanBody = false;
    this.cut = false;
    this.source = null;
  }

  onDelete(): void {
    this.root.recycleContext(this);
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): i32 {
    const root = this.root;
    if (root.config === null) {
      if (root.failOpenUnconfigured()) {
        // A client's own cluster header must never route the request (cluster_header would).
        removeHeader(MapType.HTTP_REQUEST_HEADERS, DEFAULT_CLUSTER_HEADER);
        return Action.CONTINUE;
      }
      this.localReply = true;
      sendLocal503(WHY_UNCONFIGURED, "no valid configuration", "", 5);
      return Action.PAUSE;
    }
    const keys = root.keys as HeaderKeys;
    const now = nowNs();
    if (!root.started) root.startWorker(now / 1000000);
    this.startNs = now;
    this.requestDone = endOfStream;

    const scan = root.requestScan;
    scan.scan(MapType.HTTP_REQUEST_HEADERS);
    if (!root.governs(scan)) {
      // Not an authority this filter governs: passes untouched and unrecorded, except that a
      // client's own cluster header is dropped (it must never pick the cluster).
      scan.release();
      removeHeader(MapType.HTTP_REQUEST_HEADERS, keys.cluster);
      return Action.CONTINUE;
    }
    if (root.sketch !== null) {
      const counts = countSource(root, scan, now / 1000000);
      if (counts === null) {
        scan.release();
        this.localReply = true;
        return Action.PAUSE;
      }
      this.source = counts;
      this.sourceKey = counts.key;
    }
    const route = root.routeRequest(root.explicitClusterIndex(scan), now / 1000000);
    if (route.cluster == NONE) {
      scan.release();
      this.localReply = true;
      sendLocalReply(route.status, route.why, route.message, route.replyCluster, route.retryAfterS);
      return Action.PAUSE;
    }
    this.cluster = route.cluster;
    this.sentWindowMs = root.recorder.recordSent(route.cluster);

    if (scan.valueLength(REQUEST_SCAN_REQUEST_ID) < 0) {
      root.requestIds.next(REQUEST_ID_BUFFER);
      addHeaderRaw(MapType.HTTP_REQUEST_HEADERS, keys.requestId, REQUEST_ID_BUFFER, REQUEST_ID_LENGTH);
    }
    const incoming = scan.valueLength(REQUEST_SCAN_TRACEPARENT);
    const continued = nextTraceparent(scan.valuePtr(REQUEST_SCAN_TRACEPARENT), incoming, root.rng, TRACEPARENT_BUFFER);
    scan.release();
    // Known absent: an add (the host need not look for an entry to replace).
    if (incoming < 0) addHeaderRaw(MapType.HTTP_REQUEST_HEADERS, keys.traceparent, TRACEPARENT_BUFFER, TRACEPARENT_LENGTH);
    else replaceHeaderRaw(MapType.HTTP_REQUEST_HEADERS, keys.traceparent, TRACEPARENT_BUFFER, TRACEPARENT_LENGTH);
    // A restarted trace drops the vendor state that belonged to the rejected one.
    if (!continued) removeHeader(MapType.HTTP_REQUEST_HEADERS, keys.tracestate);
    replaceHeaderBytes(MapType.HTTP_REQUEST_HEADERS, keys.cluster, unchecked(root.nameBytes[route.cluster]));
    if (root.clearRouteCache != 2) {
      root.clearRouteCache = callForeignNoArgs(CLEAR_ROUTE_CACHE) == Status.NOT_FOUND ? 2 : 1;
    }
    replaceHeaderBytes(MapType.HTTP_REQUEST_HEADERS, keys.node, root.nodeBytes);
    replaceHeaderBytes(MapType.HTTP_REQUEST_HEADERS, keys.version, root.versionBytes);
    return Action.CONTINUE;
  }

  onRequestBody(bodySize: u32, endOfStream: bool): i32 {
    if (endOfStream) this.requestDone = true;
    return Action.CONTINUE;
  }

  onRequestTrailers(numTrailers: u32): i32 {
    this.requestDone = true;
    return Action.CONTINUE;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): i32 {
    if (this.cluster == NONE || this.localReply) return Action.CONTINUE;
    const root = this.root;
    const now = nowNs();
    this.headersNs = now;
    if (endOfStream) this.endNs = now;
    const scan = root.responseScan;
    scan.scan(MapType.HTTP_RESPONSE_HEADERS);
    const status = parseDecimal(scan.valuePtr(RESPONSE_SCAN_STATUS), scan.valueLength(RESPONSE_SCAN_STATUS));
    this.status = status < 0 ? 0 : status;
    const ctLen = scan.valueLength(RESPONSE_SCAN_CONTENT_TYPE);
    const ctPtr = scan.valuePtr(RESPONSE_SCAN_CONTENT_TYPE);
    if (ctLen >= GRPC_CONTENT_TYPE.byteLength &&
        sameBytes(ctPtr, changetype<usize>(GRPC_CONTENT_TYPE), <usize>GRPC_CONTENT_TYPE.byteLength)) {
      this.isGrpc = true;
      // Trailers-only responses carry grpc-status in the headers.
      this.readGrpcStatus(MapType.HTTP_RESPONSE_HEADERS);
    } else if (!endOfStream && isEventStream(ctPtr, ctLen)) {
      this.sse = true;
      let meter = this.meter;
      if (meter === null) this.meter = meter = new SseMeter();
      meter.reset();
    }
    if (root.denyList !== null && !endOfStream) this.startBodyScan(scan.valuePtr(RESPONSE_SCAN_CONTENT_ENCODING),
      scan.valueLength(RESPONSE_SCAN_CONTENT_ENCODING));
    const loadLen = scan.valueLength(RESPONSE_SCAN_UPSTREAM_LOAD);
    if (loadLen >= 0) {
      root.recordUpstreamLoad(this.cluster, scan.valuePtr(RESPONSE_SCAN_UPSTREAM_LOAD), loadLen);
      noteGarbage(ORCA_GARBAGE);
    }
    scan.release();
    if ((root.config as FilterConfig).latencyHeader) {
      const us = now > this.startNs ? (now - this.startNs) / 1000 : 0;
      replaceHeader(MapType.HTTP_RESPONSE_HEADERS, (root.keys as HeaderKeys).latency, dec(us));
      noteGarbage(SMALL_GARBAGE);
    }
    return Action.CONTINUE;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): i32 {
    // Always continue: a stream is never held back (Envoy would buffer it; StopIterationAndBuffer).
    if (this.cut) {
      dropChunk(bodySize, endOfStream);
      return Action.CONTINUE;
    }
    const root = this.root;
    if (this.sse) {
      const now = nowNs();
      if (bodySize > 0) {
        const meter = this.meter as SseMeter;
        // The time to first token is known now: it goes to the window it happened in, not to the
        // one the stream ends in (a long answer ends tens of seconds later).
        if (meter.chunks == 0) this.root.recorder.recordFirstToken(this.cluster, now > this.startNs ? (now - this.startNs) / 1000 : 0);
        meter.chunk(bodySize, now);
      }
      if (endOfStream && this.endNs == 0) this.endNs = now;
    } else if (endOfStream && this.cluster != NONE && this.endNs == 0) this.endNs = nowNs();
    // Features that are off cost a branch each: an immediate halt, a deny-list.
    if (root.haltImmediate && this.cluster != NONE && root.haltInForce()) {
      this.cutAt(bodySize, CUT_HALTED);
    } else if (this.scanBody && bodySize > 0 && bannedIn(this.scanner as BodyScanner, root.denyList as DenyList, bodySize)) {
      root.recorder.countBody(this.cluster, BODY_MATCHED);
      this.cutAt(bodySize, CUT_BANNED);
    }
    return Action.CONTINUE;
  }

  /** Ends the response at this chunk (bodycut.ts); the end of the stream is now. */
  private cutAt(bodySize: u32, why: i32): void {
    this.cut = true;
    if (this.endNs == 0) this.endNs = nowNs();
    cutChunk(bodySize, this.sse, why);
  }

  /** Response headers with a body to come, a deny-list configured: scans the body unless its
   *  Content-Encoding (len bytes at ptr, -1: none) says it is compressed, which is counted. */
  private startBodyScan(ptr: usize, len: i32): void {
    if (len >= 0 && !isIdentity(ptr, len)) {
      this.root.recorder.countBody(this.cluster, BODY_COMPRESSED);
      return;
    }
    this.root.recorder.countBody(this.cluster, BODY_SCANNED);
    this.scanBody = true;
    let scanner = this.scanner;
    if (scanner === null) this.scanner = scanner = new BodyScanner();
    scanner.reset();
  }

  /** Takes grpc-status from a response header or trailer map when it is there. */
  private readGrpcStatus(mapType: i32): void {
    const scan = this.root.grpcStatusScan;
    scan.scan(mapType);
    const len = scan.valueLength(0);
    if (len >= 0) this.grpcStatus = parseDecimal(scan.valuePtr(0), len);
    scan.release();
  }

  onResponseTrailers(numTrailers: u32): i32 {
    if (this.cluster == NONE) return Action.CONTINUE;
    this.endNs = nowNs();
    if (this.isGrpc) {
      this.readGrpcStatus(MapType.HTTP_RESPONSE_TRAILERS);
    }
    return Action.CONTINUE;
  }

  onLog(): void {
    if (this.cluster == NONE || this.localReply || this.root.config === null) return;
    const status = this.status;
    // Response flags matter only when the upstream did not answer well, when the 408 may be the
    // stream idle timeout's, or when the response did not complete: read them then (see
    // outcome.ts for whom each flag blames). A complete 2xx-4xx response reads nothing.
    let flags = RESPONSE_FLAGS_NONE;
    if (status == 0 || status >= 500 || status == STATUS_REQUEST_TIMEOUT || this.endNs == 0) {
      flags = classifyResponseFlags(getProperty(RESPONSE_FLAGS_PATH));
      noteGarbage(SMALL_GARBAGE);
      // The stream idle timeout is the client's silence while its request was still arriving,
      // the upstream's once the whole request was with it.
      if (flags == RESPONSE_FLAGS_STREAM_IDLE) flags = this.requestDone ? RESPONSE_FLAGS_TIMEOUT : RESPONSE_FLAGS_DOWNSTREAM;
      if (flags == RESPONSE_FLAGS_OVERFLOW) {
        if (!this.fromUpstream()) {
          this.root.recordOverflow(this.cluster);
          return;
        }
        flags = RESPONSE_FLAGS_NONE; // the upstream's response, passed on when a retry overflowed
      }
      // The client left (or went silent) before any upstream response headers: status 0, or the
      // stream idle timeout's local 408. Not the upstream's doing: not in its report.
      if (flags == RESPONSE_FLAGS_DOWNSTREAM && (status == 0 || status == STATUS_REQUEST_TIMEOUT)) {
        this.root.recordClientEnded(this.cluster);
        return;
      }
    }
    const end = this.endNs != 0 ? this.endNs : nowNs();
    const totalUs = end > this.startNs ? (end - this.startNs) / 1000 : 0;
    const headersUs = this.headersNs == 0 ? u64.MAX_VALUE
      : (this.headersNs > this.startNs ? (this.headersNs - this.startNs) / 1000 : 0);
    const timeout = flags == RESPONSE_FLAGS_TIMEOUT;
    const reset = flags == RESPONSE_FLAGS_RESET || (status == 0 && !timeout);
    let outcomeClass: i32;
    if (timeout) outcomeClass = CLASS_TIMEOUT;
    else if (reset) outcomeClass = CLASS_RESET;
    else outcomeClass = classOfStatus(status);
    const grpcError = this.isGrpc && isGrpcServerError(this.grpcStatus);
    const is5xx = status >= 500;
    let failed = is5xx || timeout || reset || grpcError;
    let slowUs = totalUs;
    if (this.sse) {
      // A stream cut inside a 2xx-4xx (an error event, no [DONE]) is a failure too; a stream is
      // slow by its time to first token (its length is the answer's, not the upstream's speed).
      const meter = this.meter as SseMeter;
      // A stream the filter cut is not the upstream's doing: judged as one the client ended.
      meter.end(this.startNs, timeout || reset, flags == RESPONSE_FLAGS_DOWNSTREAM || this.cut, failed);
      this.root.recorder.recordStream(this.cluster, meter);
      if (meter.failedInStream) failed = true;
      if (meter.ttftUs != u64.MAX_VALUE) slowUs = meter.ttftUs;
    }
    const source = this.source;
    if (failed && source !== null && source.key == this.sourceKey) source.errors++;
    this.root.recorder.recordEnded(this.cluster, this.sentWindowMs);
    this.root.recordOutcome(this.cluster, outcomeClass, is5xx, timeout, reset, grpcError, failed,
      headersUs, totalUs, slowUs, end / 1000000);
    if (failed && logEnabled(LogLevel.DEBUG)) {
      log(LogLevel.DEBUG, "request to " + unchecked(this.root.names[this.cluster]) + " failed (status " +
        dec(status) + ")");
    }
  }

  /** Whether response.code_details says the response came from the upstream ("via_upstream"). */
  private fromUpstream(): bool {
    const details = getProperty(CODE_DETAILS_PATH);
    noteGarbage(SMALL_GARBAGE);
    return details !== null && details.byteLength == VIA_UPSTREAM.byteLength &&
      sameBytes(changetype<usize>(details), changetype<usize>(VIA_UPSTREAM), <usize>VIA_UPSTREAM.byteLength);
  }
}
