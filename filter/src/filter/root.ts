// The filter's root context: parses the configuration once (failing loudly), owns the per-worker
// state (enforced plan, balancer, fallback breakers, telemetry window, metrics, control-plane
// stream) and does the periodic work on tick. Request contexts (./request.ts) call route() and
// the record* methods.
import {
  getBufferBytes, getProperty, getStatusMessage, grpcCancel, HeaderScan, log, nowNs, setTickPeriodMs, utf8,
} from "../abi/hostcalls";
import { BufferType, LogLevel } from "../abi/types";
import { HttpContext, RootContext } from "../abi/context";
import { ConfigResult, FilterConfig, parseConfig } from "../config";
import { FastTrip } from "../core/fasttrip";
import { Balancer, HalfOpenGate, NONE, ProbeCredit } from "../core/balancer";
import { STATE_HALF_OPEN, STATE_OPEN } from "../core/breakerstate";
import { LocalBreaker } from "../core/localbreaker";
import { OrcaSample, parseOrca } from "../core/orca";
import { DenyList } from "../core/denylist";
import { basePlan, Plan, planFromDecisions } from "../core/plan";
import { RequestIdSource } from "../core/requestid";
import { printable } from "../core/printable";
import { mix64, Rng } from "../core/rng";
import { SourceSketch } from "../core/sourcesketch";
import { SourceLimit } from "../wire/messages";
import { DecisionAck, DecisionNack, Hello, ReportRejected } from "../wire/messages";
import { decodeControlMessage } from "../wire/decode";
import { encodeAck, encodeHello, encodeNack } from "../wire/encode";
import { ControlStream } from "./controlstream";
import { FilterMetrics } from "./metrics";
import { CLASS_CLIENT_ENDED, CLASS_LOCAL_REJECT } from "./outcome";
import { allocateWorkerId, publishDecisions, readSharedDecisions, sharedDecisionVersion } from "./shared";
import { WindowRecorder, windowStartOf } from "./window";
import { identityMode } from "./sources";
import { OfflineTime } from "./offline";
import { RequestContext } from "./request";
import {
  WHY_CLUSTER_HALF_OPEN, WHY_CLUSTER_OPEN, WHY_HALTED, WHY_NO_CLUSTER, WHY_SHED,
} from "./localreply";
import { dec, decSigned } from "../core/numbertext";
import { sameBytes } from "../core/bytes";

export const FILTER_VERSION = "0.1.0";

/** Indexes of the keys the request and response header scans look for. */
export const REQUEST_SCAN_EXPLICIT: i32 = 0;
export const REQUEST_SCAN_REQUEST_ID: i32 = 1;
export const REQUEST_SCAN_TRACEPARENT: i32 = 2;
/** :authority, looked up only when the configuration has a hosts allow-list. */
export const REQUEST_SCAN_AUTHORITY: i32 = 3;
/** The identity header of `sources` (sources.ts), looked up only when configured. */
export const REQUEST_SCAN_SOURCE: i32 = 4;
export const RESPONSE_SCAN_STATUS: i32 = 0;
export const RESPONSE_SCAN_CONTENT_TYPE: i32 = 1;
/** The ORCA load-report header, looked up only when configured (headers.upstream_load). */
export const RESPONSE_SCAN_UPSTREAM_LOAD: i32 = 2;
/** content-encoding, looked up only with a deny-list (banned_output): compressed bodies pass unscanned. */
export const RESPONSE_SCAN_CONTENT_ENCODING: i32 = 3;

/** What the hello says this build enforces or reports (Hello.capabilities in the .proto): shed,
 *  streams, fallback_time, sent and halt_immediate (request.ts cuts streams in flight) always,
 *  upstream_load unless its header is disabled, sources and source_limits when `sources` is
 *  configured (it reports them and enforces their limits). */
const CAPABILITIES: string[] = ["shed", "streams", "fallback_time", "sent", "halt_immediate", "upstream_load", "sources", "source_limits"];
const CAPABILITY_UPSTREAM_LOAD: i32 = 5;
const CAPABILITY_SOURCES: i32 = 6;

/** Texts several log lines share (each literal costs its UTF-16 bytes in the module). */
const INVALID_CONFIGURATION = "invalid plugin configuration: ";
const ENFORCING = "enforcing version ";
const FALLBACK_RULES = ": local fallback breakers rule";

/** The first tick after a configuration, ms: when the worker opens its control-plane stream. */
const FIRST_TICK_MS: u32 = 10;

/** Envoy's node properties (the bootstrap's node; Istio's proxy id and the pod's zone). */
const NODE_ID_PATH = utf8("node\0id");
const NODE_ZONE_PATH = utf8("node\0locality\0zone");

/** A node property as text, "" when absent. */
/** A local reply's error text: what, then ": <reason>" when a reason was given. */
function withReason(what: string, reason: string): string {
  return reason.length > 0 ? what + ": " + reason : what;
}

function nodeProperty(path: ArrayBuffer): string {
  const v = getProperty(path);
  return v === null ? "" : String.UTF8.decode(v as ArrayBuffer);
}

/** Deleted request contexts kept for reuse. */
const SPARE_CONTEXTS: i32 = 16;

/** Where route() sends a request: a cluster index, or a local reply (why != ""). */
export class Route {
  cluster: i32 = NONE;
  why: string = "";
  message: string = "";
  /** The cluster named in the local reply ("" for none). */
  replyCluster: string = "";
  retryAfterS: u32 = 0;
  /** The local reply's status: 503, or 429 for a request shed. */
  status: i32 = 503;
}

/** Pre-encoded header names. */
export class HeaderKeys {
  requestId: ArrayBuffer = utf8("x-request-id");
  traceparent: ArrayBuffer = utf8("traceparent");
  tracestate: ArrayBuffer = utf8("tracestate");
  status: ArrayBuffer = utf8(":status");
  contentType: ArrayBuffer = utf8("content-type");
  grpcStatus: ArrayBuffer = utf8("grpc-status");
  authority: ArrayBuffer = utf8(":authority");
  cluster: ArrayBuffer;
  explicitCluster: ArrayBuffer | null;
  node: ArrayBuffer;
  version: ArrayBuffer;
  latency: ArrayBuffer;

  constructor(c: FilterConfig) {
    this.cluster = utf8(c.clusterHeader);
    this.explicitCluster = c.explicitClusterHeader.length > 0 ? utf8(c.explicitClusterHeader) : null;
    this.node = utf8(c.nodeHeader);
    this.version = utf8(c.versionHeader);
    this.latency = utf8(c.latencyHeaderName);
  }
}

/** Admission of half-open clusters: the plan's probe fraction, or the local breaker's probes. */
class Gate implements HalfOpenGate {
  fallback: bool = false;
  credit: ProbeCredit;
  fractions: StaticArray<f64>;
  breakers: StaticArray<LocalBreaker>;

  constructor(credit: ProbeCredit, fractions: StaticArray<f64>, breakers: StaticArray<LocalBreaker>) {
    this.credit = credit;
    this.fractions = fractions;
    this.breakers = breakers;
  }

  admit(i: i32): bool {
    if (this.fallback) return unchecked(this.breakers[i]).admitProbe();
    return this.credit.take(i, unchecked(this.fractions[i]));
  }
}

export class FilterRoot extends RootContext {
  config: FilterConfig | null = null;
  names: string[] = [];
  keys: HeaderKeys | null = null;
  workerId: u32 = 0;
  /** Whether this VM took a worker id and opened its stream. Envoy also runs proxy_on_vm_start and
   *  proxy_on_configure in a throw-away "configuration canary" copy of the VM on the main thread
   *  (proxy-wasm-cpp-host src/wasm.cc, createWasm), which never ticks nor serves a request: so
   *  both happen on the first tick or request (startWorker), never in onConfigure. */
  started: bool = false;
  instanceId: u64 = 0;
  rng: Rng = new Rng(0);
  requestIds: RequestIdSource = new RequestIdSource(0);

  /** The configuration's base plan (every cluster closed at its base weight). */
  base: Plan = new Plan(0);
  /** The control plane's last good plan; null until one arrives. */
  plan: Plan | null = null;
  /** Version enforced (0: none); its text for the version header. */
  enforcedVersion: u64 = 0;
  versionText: string = "0";
  /** Last moment the control plane was known live, epoch ms: a message arrived, or a stream on
   *  which one had arrived was still open (or a set another worker received). Only this starts
   *  the decision TTL: a stream that is being opened, or fails, proves nothing. */
  lastLiveMs: u64 = 0;
  /** Whether the last route() ran on the local fallback breakers. */
  fallbackActive: bool = true;
  /** Time without a live control plane, and on the fallback breakers (the hello reports both). */
  offline: OfflineTime = new OfflineTime();
  /** Effective states in fallback mode (the local breakers' states). */
  fallbackStates: StaticArray<i32> = new StaticArray<i32>(0);

  balancer: Balancer = new Balancer(0, new Rng(0));
  fastTrip: FastTrip = new FastTrip(0, 0, 0);
  credit: ProbeCredit = new ProbeCredit(0);
  breakers: StaticArray<LocalBreaker> = new StaticArray<LocalBreaker>(0);
  /** Spreads a shed plan's admitted requests evenly over each cluster's (admit fractions). */
  shedCredit: ProbeCredit = new ProbeCredit(0);
  /** The banned-output literals (banned_output); null when none are configured. */
  denyList: DenyList | null = null;
  /** The plan enforced halts the mesh in mode immediate: streams in flight are cut (request.ts). */
  haltImmediate: bool = false;
  /** The ORCA report of the response being read (reused). */
  orcaSample: OrcaSample = new OrcaSample();
  gate: Gate = new Gate(new ProbeCredit(0), new StaticArray<f64>(0), new StaticArray<LocalBreaker>(0));
  recorder: WindowRecorder = new WindowRecorder([], 0);
  metrics: FilterMetrics | null = null;
  stream: ControlStream | null = null;
  nextSharedCheckMs: u64 = 0;
  tickMs: u32 = 1000;
  /** The tick period was set to reach the next window-grid boundary; reset it to tickMs there. */
  aligningTicks: bool = false;
  /** The reusable result of route(). */
  route: Route = new Route();
  lastFailOpen: bool = true;
  /** The hosts allow-list, pre-encoded (empty: every request is governed). */
  hostBytes: StaticArray<ArrayBuffer> = new StaticArray<ArrayBuffer>(0);
  /** Whether Envoy's clear_route_cache foreign function exists here: 0 not yet known, 1 yes, 2 no. */
  clearRouteCache: i32 = 0;
  /** Pre-encoded values written on every request. */
  nameBytes: StaticArray<ArrayBuffer> = new StaticArray<ArrayBuffer>(0);
  nodeBytes: ArrayBuffer = new ArrayBuffer(0);
  versionBytes: ArrayBuffer = utf8("0");
  requestScan: HeaderScan = new HeaderScan(new StaticArray<ArrayBuffer>(0));
  responseScan: HeaderScan = new HeaderScan(new StaticArray<ArrayBuffer>(0));
  /** grpc-status in a gRPC response's headers (trailers-only) or trailers; looked up only then. */
  grpcStatusScan: HeaderScan = new HeaderScan(new StaticArray<ArrayBuffer>(0));
  /** Who sends the traffic: the window's sketch; null when `sources` is not configured. */
  sketch: SourceSketch | null = null;
  /** The identity kind (sources.ts IDENTITY_*). */
  sourceMode: i32 = 0;

  /** Contexts of deleted requests, reused by the next ones (at most SPARE_CONTEXTS): saves an
   *  allocation per request and the collector's sweep of it. */
  private spareContexts: Array<RequestContext> = [];

  newHttpContext(contextId: u32): HttpContext {
    const spares = this.spareContexts;
    if (spares.length > 0) {
      const ctx = spares.pop();
      ctx.reset(contextId);
      return ctx;
    }
    return new RequestContext(contextId, this);
  }

  /** Takes back a deleted request's context (RequestContext.onDelete; nothing refers to it any more). */
  recycleContext(ctx: RequestContext): void {
    if (this.spareContexts.length < SPARE_CONTEXTS) this.spareContexts.push(ctx);
  }

  onConfigure(size: u32): bool {
    const raw = getBufferBytes(BufferType.PLUGIN_CONFIGURATION, 0, size);
    const text = raw === null ? "" : String.UTF8.decode(raw as ArrayBuffer);
    const result: ConfigResult = parseConfig(text);
    if (result.error !== null) {
      log(LogLevel.CRITICAL, INVALID_CONFIGURATION + (result.error as string));
      return false;
    }
    const c = result.config as FilterConfig;
    // One WasmPlugin for every pod: identity from Envoy's node when the configuration has none.
    if (c.nodeId.length == 0) c.nodeId = nodeProperty(NODE_ID_PATH);
    if (c.zone.length == 0) c.zone = nodeProperty(NODE_ZONE_PATH);
    if (c.nodeId.length == 0) {
      log(LogLevel.CRITICAL, INVALID_CONFIGURATION + "node_id: required (or Envoy's node.id)");
      return false;
    }
    this.apply(c);
    return true;
  }

  /** Takes this worker's id and opens its control-plane stream (first tick or request). */
  startWorker(nowMs: u64): void {
    this.started = true;
    this.workerId = allocateWorkerId(this.contextId);
    this.instanceId = mix64(this.instanceId ^ mix64(<u64>this.workerId + 0x632be59bd9b4e019));
    this.rng = new Rng(this.instanceId);
    this.balancer.rng = this.rng;
    this.requestIds = new RequestIdSource(this.instanceId);
    // Ticks then fall on the window grid (multiples of tickMs since the epoch): the first one at
    // the next boundary, the rest every tickMs from there, so a window is reported as soon as it
    // ends rather than up to a tick later. A period set re-arms the timer from now (proxy-wasm
    // hosts, Envoy's included, restart the tick timer on proxy_set_tick_period_milliseconds).
    // The period is in whole milliseconds and now is not: the whole milliseconds to the boundary
    // are rounded down, so every tick falls on a boundary or less than a millisecond before it
    // (onTick closes a window within half a tick of its end) and never after it: a control plane
    // deciding as a window ends has every worker's report of it.
    const tickNs = <u64>this.tickMs * 1000000;
    let toBoundary = <u32>((tickNs - nowNs() % tickNs) / 1000000);
    if (toBoundary == 0) toBoundary = this.tickMs;
    this.aligningTicks = toBoundary != this.tickMs;
    setTickPeriodMs(this.aligningTicks ? toBoundary : this.tickMs);
    this.connect(nowMs);
    log(LogLevel.INFO, "node " + (this.config as FilterConfig).nodeId + " worker " + dec(this.workerId) +
      " connecting");
  }

  private apply(c: FilterConfig): void {
    const now = nowNs();
    const nowMs = now / 1000000;
    const reconfigure = this.config !== null;
    if (!reconfigure) {
      // No randomness in the ABI: mix the clock, node and context id (and, in startWorker, the
      // worker id).
      this.instanceId = mix64(now ^ mix64(<u64>this.contextId << 32) ^ <u64>hashString(c.nodeId) << 17);
      this.rng = new Rng(this.instanceId);
      this.requestIds = new RequestIdSource(this.instanceId);
    }
    this.config = c;
    this.lastFailOpen = c.failOpen;
    this.keys = new HeaderKeys(c);
    const n = c.clusters.length;
    const names = new Array<string>(n);
    const weights = new StaticArray<u32>(n);
    for (let i = 0; i < n; i++) {
      unchecked((names[i] = c.clusters[i].name));
      unchecked((weights[i] = c.clusters[i].weight));
    }
    this.names = names;
    const nameBytes = new StaticArray<ArrayBuffer>(n);
    for (let i = 0; i < n; i++) unchecked((nameBytes[i] = utf8(names[i])));
    this.nameBytes = nameBytes;
    this.nodeBytes = utf8(c.nodeId);
    const keys = this.keys as HeaderKeys;
    const requestKeys = new StaticArray<ArrayBuffer>(5);
    // An unconfigured explicit header scans for an empty name, which no header has.
    requestKeys[REQUEST_SCAN_EXPLICIT] = keys.explicitCluster !== null ? keys.explicitCluster as ArrayBuffer : new ArrayBuffer(0);
    requestKeys[REQUEST_SCAN_REQUEST_ID] = keys.requestId;
    requestKeys[REQUEST_SCAN_TRACEPARENT] = keys.traceparent;
    // Without an allow-list :authority is not looked up (an empty key is skipped): no cost.
    requestKeys[REQUEST_SCAN_AUTHORITY] = c.hosts.length > 0 ? keys.authority : new ArrayBuffer(0);
    requestKeys[REQUEST_SCAN_SOURCE] = utf8(c.sourcesTopK > 0 ? c.sourcesHeader : "");
    this.sketch = c.sourcesTopK > 0 ? new SourceSketch(c.sourcesTopK) : null;
    this.sourceMode = identityMode(c.sourcesHeader);
    const hostBytes = new StaticArray<ArrayBuffer>(c.hosts.length);
    for (let i = 0; i < c.hosts.length; i++) unchecked((hostBytes[i] = utf8(c.hosts[i])));
    this.hostBytes = hostBytes;
    this.requestScan = new HeaderScan(requestKeys);
    const responseKeys = new StaticArray<ArrayBuffer>(4);
    responseKeys[RESPONSE_SCAN_STATUS] = keys.status;
    responseKeys[RESPONSE_SCAN_CONTENT_TYPE] = keys.contentType;
    // Without a configured header no ORCA look-up happens (an empty key is skipped): no cost.
    responseKeys[RESPONSE_SCAN_UPSTREAM_LOAD] = utf8(c.upstreamLoadHeader);
    // Likewise content-encoding without a deny-list.
    const banned = c.bannedOutput.length > 0;
    this.denyList = banned ? new DenyList(c.bannedOutput) : null;
    responseKeys[RESPONSE_SCAN_CONTENT_ENCODING] = utf8(banned ? "content-encoding" : "");
    this.responseScan = new HeaderScan(responseKeys);
    const grpcKeys = new StaticArray<ArrayBuffer>(1);
    grpcKeys[0] = keys.grpcStatus;
    this.grpcStatusScan = new HeaderScan(grpcKeys);
    this.base = basePlan(weights);
    this.plan = null;
    this.haltImmediate = false;
    this.enforcedVersion = 0;
    this.versionText = "0";
    this.versionBytes = utf8("0");
    this.lastLiveMs = 0;
    this.fallbackActive = true;
    this.offline.fallbackStarted(nowMs);
    this.fallbackStates = new StaticArray<i32>(n);
    // Its first pick takes a random phase (and so does the first pick under each new plan).
    this.balancer = new Balancer(n, this.rng);
    this.credit = new ProbeCredit(n);
    this.shedCredit = new ProbeCredit(n);
    this.fastTrip = new FastTrip(n, <i32>c.fastTripFailures,
      <u64>(c.fastTripHoldMs > 0 ? c.fastTripHoldMs : (c.windowMs > 1000 ? c.windowMs : 1000)));
    const breakers = new StaticArray<LocalBreaker>(n);
    for (let i = 0; i < n; i++) unchecked((breakers[i] = new LocalBreaker(c.fallback)));
    this.breakers = breakers;
    this.gate = new Gate(this.credit, this.base.probeFractions, breakers);
    this.recorder = new WindowRecorder(names, windowStartOf(nowMs, c.windowMs));
    this.metrics = new FilterMetrics(names);
    if (this.stream !== null) {
      // A reconfiguration restarts the stream (the cluster or token may have changed).
      const old = this.stream as ControlStream;
      if (old.isLive()) this.offline.wentOffline(nowMs);
      if (old.isOpen()) grpcCancel(old.streamId);
    }
    this.stream = new ControlStream(c.cpCluster, c.cpAuthority, c.cpToken, c.cpTimeoutMs, c.reconnectBaseMs, c.reconnectMaxMs);
    this.tickMs = c.windowMs < 1000 ? c.windowMs : 1000;
    this.pickUpShared(nowMs);
    this.refreshGauges(nowMs);
    if (this.started) {
      this.connect(nowMs); // a worker reconfigured: its new stream at once
    } else {
      setTickPeriodMs(FIRST_TICK_MS < this.tickMs ? FIRST_TICK_MS : this.tickMs);
    }
    log(LogLevel.INFO, "configured node " + c.nodeId + " with clusters " + names.join(", "));
  }

  /** Whether an immediate halt rules now (haltImmediate, and the plan has not outlived its ttl). */
  haltInForce(): bool {
    return this.planRules(nowNs() / 1000000);
  }

  /** Whether an unconfigured filter lets traffic through (fail_open of the last good
   *  configuration; true when there never was one: Envoy refuses to start such a filter anyway). */
  failOpenUnconfigured(): bool {
    return this.lastFailOpen;
  }

  // -------------------------------------------------------------------------------------------
  // Routing (called per request)
  // -------------------------------------------------------------------------------------------

  /** The source limits in force: the plan's while it rules (none on the fallback breakers). */
  enforcedLimits(nowMs: u64): SourceLimit[] | null {
    return this.planRules(nowMs) ? (this.plan as Plan).limits : null;
  }

  /** Whether the control plane's plan rules now (else: the local fallback breakers): while a
   *  live stream is open, and for the plan's ttl_ms after the control plane was last live. */
  private planRules(nowMs: u64): bool {
    if (this.plan === null) return false;
    const stream = this.stream;
    if (stream !== null && stream.isLive()) return true;
    return nowMs <= this.lastLiveMs + <u64>(this.plan as Plan).ttlMs;
  }

  /** Whether the request's :authority (scanned) is one the filter governs: always true without an
   *  allow-list; else it equals an entry, or is an entry without a port followed by ":<port>". */
  governs(scan: HeaderScan): bool {
    const hosts = this.hostBytes;
    if (hosts.length == 0) return true;
    const len = scan.valueLength(REQUEST_SCAN_AUTHORITY);
    if (len < 0) return false;
    const ptr = scan.valuePtr(REQUEST_SCAN_AUTHORITY);
    for (let i = 0; i < hosts.length; i++) {
      const h = unchecked(hosts[i]);
      const n = h.byteLength;
      if (n > len || !sameBytes(ptr, changetype<usize>(h), <usize>n)) continue;
      if (n == len || load<u8>(ptr + <usize>n) == 0x3a) return true; // exact, or "<host>:<port>"
    }
    return false;
  }

  /** The configured cluster the request names in the explicit-cluster header, or NONE. */
  explicitClusterIndex(scan: HeaderScan): i32 {
    if (scan.valueLength(REQUEST_SCAN_EXPLICIT) < 0) return NONE;
    const names = this.nameBytes;
    for (let i = 0; i < names.length; i++) if (scan.valueEquals(REQUEST_SCAN_EXPLICIT, unchecked(names[i]))) return i;
    return NONE; // an unknown name is ignored: the request is balanced like any other
  }

  /** Decides where a request goes; `explicit` is the cluster the request names (or NONE). */
  routeRequest(explicit: i32, nowMs: u64): Route {
    const r = this.route;
    r.cluster = NONE;
    r.why = "";
    const c = this.config as FilterConfig;
    if (nowMs >= this.nextSharedCheckMs) {
      this.nextSharedCheckMs = nowMs + <u64>c.decisionCheckMs;
      if (sharedDecisionVersion() > this.enforcedVersion) this.pickUpShared(nowMs);
    }
    const useplan = this.planRules(nowMs);
    let weights: StaticArray<u32>;
    let states: StaticArray<i32>;
    let retryAfter: StaticArray<u32>;
    if (useplan) {
      const plan = this.plan as Plan;
      if (plan.halted) {
        this.reject(WHY_HALTED, withReason("mesh halted", plan.haltReason),
          this.balancer.pickIgnoringState(this.base.weights), c.retryAfterS, false);
        return r;
      }
      weights = plan.weights;
      states = plan.states;
      retryAfter = plan.retryAfterS;
      this.gate.fallback = false;
      this.gate.fractions = plan.probeFractions;
    } else {
      weights = this.base.weights;
      states = this.fallbackStates;
      for (let i = 0; i < states.length; i++) {
        unchecked((states[i] = unchecked(this.breakers[i]).stateAt(nowMs)));
      }
      retryAfter = this.base.retryAfterS;
      this.gate.fallback = true;
    }

    if (explicit != NONE) {
      const i = explicit;
      const s = unchecked(states[i]);
      if (s == STATE_OPEN) {
        this.reject(WHY_CLUSTER_OPEN, "cluster " + unchecked(this.names[i]) + " is open", i,
          this.retryAfterFor(i, retryAfter, useplan, nowMs), true);
        return r;
      }
      if (s == STATE_HALF_OPEN && !this.gate.admit(i)) {
        this.reject(WHY_CLUSTER_HALF_OPEN, "cluster " + unchecked(this.names[i]) + " is half-open", i,
          this.retryAfterFor(i, retryAfter, useplan, nowMs), true);
        return r;
      }
      if (useplan && (this.plan as Plan).shedding && !this.admitUnderShed(i, retryAfter)) return r;
      r.cluster = i;
      return r;
    }

    // Clusters this worker saw fail hard are held out of its weighted pick for a moment (fast
    // trip); a request that names its cluster still goes there unless the plan has it open.
    const pickStates = useplan && this.fastTrip.active > 0 ? this.fastTrip.apply(states, weights, nowMs) : states;
    const picked = this.balancer.pick(weights, pickStates, this.gate);
    if (picked != NONE) {
      if (useplan && (this.plan as Plan).shedding && !this.admitUnderShed(picked, retryAfter)) return r;
      r.cluster = picked;
      return r;
    }
    const declined = this.balancer.rejectedBy;
    if (declined != NONE) {
      this.reject(WHY_NO_CLUSTER, "no cluster available: " + unchecked(this.names[declined]) + " is half-open",
        declined, this.retryAfterFor(declined, retryAfter, useplan, nowMs), true);
    } else {
      const owner = this.balancer.pickIgnoringState(this.base.weights);
      this.reject(WHY_NO_CLUSTER, "no cluster available: all open", owner,
        owner == NONE ? c.retryAfterS : this.retryAfterFor(owner, retryAfter, useplan, nowMs), false);
    }
    return r;
  }

  /** Under a shed plan: whether cluster i admits this request (its admit fraction, spread evenly);
   *  when not, the route is a local 429 attributed to i. */
  private admitUnderShed(i: i32, retryAfter: StaticArray<u32>): bool {
    const plan = this.plan as Plan;
    if (this.shedCredit.take(i, unchecked(plan.admitFractions[i]))) return true;
    const s = unchecked(retryAfter[i]);
    const reason = plan.shedReason;
    this.reject(WHY_SHED, withReason("load shed", reason), i, s > 0 ? s : (this.config as FilterConfig).retryAfterS, true);
    this.route.status = 429;
    this.recorder.recordShed(i);
    (this.metrics as FilterMetrics).countShed(i);
    return false;
  }

  private retryAfterFor(i: i32, retryAfter: StaticArray<u32>, useplan: bool, nowMs: u64): u32 {
    if (useplan) {
      const s = unchecked(retryAfter[i]);
      return s > 0 ? s : (this.config as FilterConfig).retryAfterS;
    }
    // Fallback: until the local breaker's open period ends (at least 1 s).
    const b = unchecked(this.breakers[i]);
    const c = this.config as FilterConfig;
    const until = b.sinceMs + <u64>c.fallback.openMs;
    if (b.state == STATE_OPEN && until > nowMs) return <u32>((until - nowMs + 999) / 1000);
    return 1;
  }

  /** Fills the route with a local reply; attributes the reject to cluster `owner` when known. */
  private reject(why: string, message: string, owner: i32, retryAfterS: u32, nameCluster: bool): void {
    const r = this.route;
    r.cluster = NONE;
    r.status = 503;
    r.why = why;
    r.message = message;
    r.retryAfterS = retryAfterS;
    r.replyCluster = owner != NONE && nameCluster ? unchecked(this.names[owner]) : "";
    if (owner != NONE) {
      this.recorder.recordLocalReject(owner);
      (this.metrics as FilterMetrics).countRequest(owner, CLASS_LOCAL_REJECT);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Decisions
  // -------------------------------------------------------------------------------------------

  /** Applies a valid plan: enforced from now, live as of liveAtMs. */
  private enforce(plan: Plan, liveAtMs: u64, nowMs: u64): void {
    const previous = this.plan;
    this.plan = plan;
    this.haltImmediate = plan.haltImmediate;
    this.enforcedVersion = plan.version;
    this.versionText = dec(plan.version);
    this.versionBytes = utf8(this.versionText);
    if (liveAtMs > this.lastLiveMs) this.lastLiveMs = liveAtMs;
    for (let i = 0; i < this.names.length; i++) {
      // A cluster that changes state starts probing afresh.
      if (previous === null || unchecked((previous as Plan).states[i]) != unchecked(plan.states[i])) this.credit.reset(i);
    }
    this.gate.fractions = plan.probeFractions;
    this.refreshGauges(nowMs);
  }

  /**
   * Handles a ControlMessage from this worker's stream: decode, validate, apply and ACK, or NACK
   * naming the problem and keep the last good plan.
   */
  handleControlMessage(bytes: ArrayBuffer, nowMs: u64): void {
    const stream = this.stream as ControlStream;
    const metrics = this.metrics as FilterMetrics;
    const decoded = decodeControlMessage(bytes);
    if (decoded.error !== null) {
      this.nack(0, "decode: " + printable(decoded.error as string));
      return;
    }
    if (decoded.reportRejected !== null) {
      this.reportRejected(decoded.reportRejected!, nowMs);
      return;
    }
    if (decoded.decisions === null) return; // a kind this build does not know
    const set = decoded.decisions!;
    if (this.plan !== null && set.version == this.enforcedVersion) {
      // A re-send of what is enforced (e.g. after reconnecting): acknowledge again.
      const ack = new DecisionAck();
      ack.version = set.version;
      stream.send(encodeAck(ack));
      return;
    }
    const result = planFromDecisions(set, this.names, this.enforcedVersion);
    if (result.error !== null) {
      this.nack(set.version, result.error as string);
      return;
    }
    this.enforce(result.plan!, nowMs, nowMs);
    metrics.decisionApplied();
    const ack = new DecisionAck();
    ack.version = set.version;
    stream.send(encodeAck(ack));
    publishDecisions(set.version, nowMs, bytes);
    log(LogLevel.INFO, ENFORCING + this.versionText);
  }

  private nack(version: u64, reason: string): void {
    (this.metrics as FilterMetrics).decisionRejected();
    log(LogLevel.WARN, "rejected version " + dec(version) + ": " + reason);
    const nack = new DecisionNack();
    nack.version = version;
    nack.reason = reason;
    nack.enforcedVersion = this.enforcedVersion;
    (this.stream as ControlStream).send(encodeNack(nack));
  }

  /** The control plane refused one of this stream's reports: a WARN naming why (at most one a
   *  minute per stream), saying so when the host clock looks wrong. */
  private reportRejected(m: ReportRejected, nowMs: u64): void {
    const suffix = (this.stream as ControlStream).rejectedLog.take(nowMs);
    if (suffix === null) return;
    let text = "refused report " + dec(m.sequence) + ": " + printable(m.reason);
    if (m.clockOffsetMs != 0) {
      text += "; clock looks wrong by " + decSigned(m.clockOffsetMs) + " ms";
    }
    log(LogLevel.WARN, text + (suffix as string));
  }

  /** Adopts a newer decision set another worker published, when it validates here. */
  private pickUpShared(nowMs: u64): void {
    const shared = readSharedDecisions();
    if (shared === null) return;
    if (shared.version <= this.enforcedVersion && this.plan !== null) return;
    const decoded = decodeControlMessage(shared.message);
    if (decoded.error !== null || decoded.decisions === null) return;
    const result = planFromDecisions(decoded.decisions!, this.names, this.enforcedVersion);
    if (result.error !== null) {
      log(LogLevel.WARN, "ignoring shared version " + dec(shared.version) + ": " + (result.error as string));
      return;
    }
    this.enforce(result.plan!, shared.receivedAtMs, nowMs);
  }

  // -------------------------------------------------------------------------------------------
  // Control-plane stream
  // -------------------------------------------------------------------------------------------

  private hello(nowMs: u64): ArrayBuffer {
    const c = this.config as FilterConfig;
    const h = new Hello();
    h.nodeId = c.nodeId;
    h.zone = c.zone;
    h.workerId = this.workerId;
    h.filterVersion = FILTER_VERSION;
    h.clusters = this.names;
    h.instanceId = this.instanceId;
    // Built for every (re)connect: a control plane behind this version continues above it.
    h.enforcedVersion = this.enforcedVersion;
    for (let i = 0; i < CAPABILITIES.length; i++) {
      if (i == CAPABILITY_UPSTREAM_LOAD && c.upstreamLoadHeader.length == 0) continue;
      if (i >= CAPABILITY_SOURCES && this.sketch === null) break;
      h.capabilities.push(unchecked(CAPABILITIES[i]));
    }
    h.disconnectedMs = this.offline.disconnectedMs(nowMs);
    h.fallbackMs = this.offline.fallbackMsAt(nowMs);
    return encodeHello(h);
  }

  private connect(nowMs: u64): void {
    const stream = this.stream as ControlStream;
    const before = stream.opened;
    // A ttl that ran out since the last tick counts as fallback time in this hello.
    this.refreshGauges(nowMs);
    stream.open(nowMs, this.hello(nowMs), this.rng);
    if (stream.opened > 1 && stream.opened > before) (this.metrics as FilterMetrics).reconnected();
  }

  onGrpcReceive(token: u32, messageSize: u32): void {
    const stream = this.stream;
    if (stream === null || token != stream.streamId || this.config === null) return;
    const nowMs = nowNs() / 1000000;
    stream.markHeardFrom();
    this.offline.cameOnline();
    this.lastLiveMs = nowMs;
    const bytes = getBufferBytes(BufferType.GRPC_CALL_MESSAGE, 0, messageSize);
    this.handleControlMessage(bytes === null ? new ArrayBuffer(0) : bytes as ArrayBuffer, nowMs);
  }

  onGrpcClose(token: u32, statusCode: u32): void {
    const stream = this.stream;
    if (stream === null || token != stream.streamId) return;
    const nowMs = nowNs() / 1000000;
    const message = getStatusMessage();
    const text = "control-plane stream closed (status " + dec(statusCode) +
      (message.length > 0 ? ": " + message : "") + ")";
    if (stream.isLive()) {
      // The control plane was live until now: always worth a line; the TTL starts here.
      this.lastLiveMs = nowMs;
      this.offline.wentOffline(nowMs);
      log(LogLevel.WARN, text);
    } else {
      stream.warnFailure(nowMs, text); // an attempt that failed: rate-limited
    }
    stream.closed(nowMs, this.rng);
  }

  // -------------------------------------------------------------------------------------------
  // Periodic work
  // -------------------------------------------------------------------------------------------

  onTick(): void {
    if (this.config === null) return;
    const c = this.config as FilterConfig;
    const stream = this.stream as ControlStream;
    const nowMs = nowNs() / 1000000;
    if (!this.started) {
      this.startWorker(nowMs);
      return;
    }
    if (this.aligningTicks) {
      // This tick is on the grid: from now on every tickMs.
      this.aligningTicks = false;
      setTickPeriodMs(this.tickMs);
    }
    if (sharedDecisionVersion() > this.enforcedVersion) this.pickUpShared(nowMs);
    this.nextSharedCheckMs = nowMs + <u64>c.decisionCheckMs;
    if (stream.isLive()) this.lastLiveMs = nowMs;
    stream.giveUpIfSilent(nowMs, this.rng);
    if (!stream.isOpen() && nowMs >= stream.reconnectAtMs) this.connect(nowMs);
    // Close the window when it is (within half a tick) complete.
    const dueMs = nowMs + <u64>(this.tickMs / 2);
    if (dueMs >= this.recorder.startMs + <u64>c.windowMs) {
      const report = this.recorder.close(windowStartOf(dueMs, c.windowMs), c.windowMs, 0, this.enforcedVersion);
      if (this.sketch !== null) (this.sketch as SourceSketch).drain(report);
      stream.sendReport(report);
    }
    this.refreshGauges(nowMs);
    (this.metrics as FilterMetrics).flush();
  }

  /** Updates the breaker-state and weight gauges to what is enforced now. */
  private refreshGauges(nowMs: u64): void {
    const metrics = this.metrics;
    if (metrics === null) return;
    const useplan = this.planRules(nowMs);
    if (useplan) {
      const plan = this.plan as Plan;
      metrics.setEnforced(plan.states, plan.weights, this.enforcedVersion, false);
    } else {
      const states = this.fallbackStates;
      for (let i = 0; i < states.length; i++) unchecked((states[i] = unchecked(this.breakers[i]).stateAt(nowMs)));
      metrics.setEnforced(states, this.base.weights, this.enforcedVersion, true);
    }
    if (useplan == this.fallbackActive) {
      if (useplan) this.offline.fallbackEnded(nowMs);
      else this.offline.fallbackStarted(this.plan !== null ? this.lastLiveMs + <u64>(this.plan as Plan).ttlMs : nowMs);
      if (useplan) {
        log(LogLevel.INFO, ENFORCING + this.versionText);
      } else if (this.plan !== null) {
        log(LogLevel.WARN, "control plane silent past version " + this.versionText + "'s ttl (" +
          dec((this.plan as Plan).ttlMs) + " ms)" + FALLBACK_RULES);
      } else {
        log(LogLevel.INFO, "no decisions yet" + FALLBACK_RULES);
      }
      this.fallbackActive = !useplan;
    }
  }

  /** Cluster i's connection pool or circuit breaker was full (Envoy's UO): a local reject of i,
   *  not an upstream outcome (its window's local_rejects; not its requests, not its breaker). */
  recordOverflow(i: i32): void {
    this.recorder.recordLocalReject(i);
    (this.metrics as FilterMetrics).countRequest(i, CLASS_LOCAL_REJECT);
  }

  /** The client ended a stream routed to cluster i before the upstream answered: counted only
   *  in the client_ended counter (not in the window, not in the breaker). */
  recordClientEnded(i: i32): void {
    (this.metrics as FilterMetrics).countRequest(i, CLASS_CLIENT_ENDED);
  }

  /** An upstream response of cluster i carried an ORCA load report (header text at ptr, len bytes). */
  recordUpstreamLoad(i: i32, ptr: usize, len: i32): void {
    const sample = this.orcaSample;
    if (parseOrca(ptr, len, sample)) this.recorder.recordLoad(i, sample);
    else this.recorder.recordUnreadableLoad(i);
  }

  /** Records a completed upstream request for cluster i. */
  /** slowUs: the latency the fallback breaker's slow-call check judges (totalUs, or a stream's
   *  time to first token: a long answer is not a slow upstream). */
  recordOutcome(i: i32, outcomeClass: i32, is5xx: bool, timeout: bool, reset: bool, grpcError: bool,
                failed: bool, headersUs: u64, totalUs: u64, slowUs: u64, nowMs: u64): void {
    this.recorder.recordCompleted(i, is5xx, timeout, reset, grpcError, headersUs, totalUs);
    const metrics = this.metrics as FilterMetrics;
    metrics.countRequest(i, outcomeClass);
    metrics.recordLatencyUs(i, totalUs);
    unchecked(this.breakers[i]).record(failed, slowUs / 1000, nowMs);
    if (this.fastTrip.record(i, failed, nowMs)) metrics.countFastTrip(i);
  }
}

/** FNV-1a over UTF-16 code units (for seeding). */
function hashString(s: string): u32 {
  let h: u32 = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= <u32>s.charCodeAt(i);
    h *= 16777619;
  }
  return h;
}
