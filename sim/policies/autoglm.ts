// Policy `autoglm`: the product itself. Every simulated request goes through build/filter.wasm
// in the project's proxy-wasm host (filter/host/), one plugin (one VM) per sidecar, the sidecar
// chosen round robin; the filter talks to the real control plane (control-plane/src/service.ts,
// `ControlPlane`) over the in-process gRPC transport; both run on one virtual clock that the
// runner moves. Underneath, each cluster's hosts are picked by Envoy's round robin (the same
// EnvoyLoadBalancer as the envoy-outlier baseline) with the outlier detection the shipped
// configuration sets (deploy/envoy/envoy.yaml, deploy/istio/README.md): only hosts that refuse
// connections are ejected (outlier-detection.ts LOCAL_ORIGIN_ONLY); hosts answering 5xx stay in
// service. `hostOutlierDetection` "envoy_default" runs Envoy's defaults instead (every 5xx
// counts), "none" none. The shipped bootstrap also health-checks every host (`health_checks`,
// active-health-check.ts SHIPPED_HEALTH_CHECK), and so does each sidecar here unless
// `activeHealthCheck` is false: a host failing its checks is out of load balancing, a check that
// passes returns an ejected host at once, and whether a check passes follows the scenario's
// faults (a host down with chance f refuses a check with chance f). With them the bootstrap sets
// Envoy's panic threshold to 1 % (SHIPPED_PANIC_THRESHOLD): panic only when no host of the
// cluster is healthy, and then requests go to all of its hosts. With `panicThreshold` 0 (panic
// mode off) a cluster with no healthy host answers 503 with response flag UH, which is what the
// filter then sees. Cluster choice is the filter's (Envoy's route uses cluster_header on
// x-autoglm-cluster), so there is no priority failover between clusters.
//
// Per request: at arrival the clock moves to the arrival time (firing the filters' ticks: their
// window reports go to the control plane), the request headers go through the filter, and
// either its local reply (503) is what the client gets, or x-autoglm-cluster names the cluster.
// At completion the clock moves to the answer's time and the response goes back through the same
// stream: :status, and for a client timeout status 504 with Envoy's response flag UT; then
// proxy_on_done/on_log record the outcome with the latency the filter measured on virtual time.
// An answer from a cluster with `load_report` carries its host's ORCA report (orcaHeader).
// A streamed answer goes through as Envoy passes one on: 200 and content-type text/event-stream at
// once, each body chunk at its time (proxy_on_response_body, end_of_stream on the last); a reset
// after the headers (response flag UR) or a first token after the client's timeout (UT) ends the
// stream without its end.
// At the end of each window the clock reaches the window end (every filter reports its window)
// and the control plane runs one decision round (decide()); new decisions reach the filters at once.
import { appendFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import type { Scenario } from "../scenario.js";
import { projectRoot } from "../scenario.js";
import { STREAM, Xoshiro128 } from "../random.js";
import type { Policy, RouteDecision, SimRequest } from "../policy.js";
import type { HostLoad } from "../upstream.js";
import { EnvoyLoadBalancer, NO_HEALTHY_HOST, PANIC_THRESHOLD, SHIPPED_PANIC_THRESHOLD } from "./envoy-outlier.js";
import { LOCAL_ORIGIN_ONLY } from "./outlier-detection.js";
import { FaultTimeline } from "../faults.js";
import { HostHealth, clusterLoads, type EndpointHealthEvent } from "../../control-plane/src/xds/host-health.js";
import type { EndpointLoad } from "../../control-plane/src/xds/lrs.js";
import { createLogger } from "../../lib/log.js";
import { simTriggerEvent, type SimTriggerEvent } from "../triggers.js";
import type { HttpStream, ProxyWasmPlugin, ManualClock as ManualClockType } from "../../filter/host/index.js";
import type { ControlPlane as ControlPlaneType } from "../../control-plane/src/service.js";
import type { ClusterStatus, Scorer } from "../../control-plane/src/core/types.js";

/** The upstream name the filter's gRPC stream uses for the control plane. */
const CONTROL_PLANE_CLUSTER = "autoglm-control-plane";
/** Virtual epoch of scenario time 0, ms (any fixed instant: runs must not depend on the wall clock). */
const EPOCH_MS = Date.UTC(2025, 0, 1);

export interface AutoglmOptions {
  /** The filter module (default: build/filter.wasm under the project root). */
  wasmPath?: string;
  /** The anomaly model (default: models/anomaly.onnx under the project root, when present). "" : none. */
  modelPath?: string;
  /** The policy's name in reports (default "autoglm"; the ablation without the model is "autoglm-rules"). */
  name?: string;
  /** Per-host outlier detection under the filter: "local_origin" (default: the shipped
   *  configuration, hosts refusing connections only), "envoy_default" (Envoy's defaults), "none". */
  hostOutlierDetection?: "local_origin" | "envoy_default" | "none";
  /** Mesh-wide host ejection (default false: the shipped bootstrap resolves its LLM clusters by
   *  DNS). True models sidecars whose LLM clusters come from the control plane's EDS: every
   *  sidecar's Envoy reports each host's requests and 5xx over LRS once per window, the control
   *  plane judges them (control-plane/src/xds/host-health.ts) and the hosts it ejects are
   *  UNHEALTHY in EDS, out of every sidecar's load balancing (Envoy's FAILED_EDS_HEALTH). */
  hostEjection?: boolean;
  /** Per-host active health checking under the filter, as the shipped bootstrap sets it
   *  (SHIPPED_HEALTH_CHECK, with successful_active_health_check_uneject_host, and panic only when
   *  no host is healthy: SHIPPED_PANIC_THRESHOLD). Default true; false: no checks and Envoy's
   *  50 % panic threshold. */
  activeHealthCheck?: boolean;
  /** healthy_panic_threshold as a fraction in [0, 1] (0: panic mode off); default
   *  SHIPPED_PANIC_THRESHOLD with active health checks, Envoy's 50 % without. */
  panicThreshold?: number;
  /** Whether the filters read the upstreams' ORCA load reports (default true; false sets the
   *  filter's `headers.upstream_load` to "", so it never looks the header up). */
  readLoadReports?: boolean;
  /** Called with each request's HTTP stream just before it completes (proxy_on_done), for tests
   *  and tracing: its headers, body and trap state as the filter left them. */
  onStreamComplete?: (stream: HttpStream, status: number) => void;
  /** Called after each decision round with the control plane's cluster statuses (its windows,
   *  capacity estimates and breaker states), for measurements such as sim/forecast-calibration.ts. */
  onRound?: (statuses: readonly ClusterStatus[]) => void;
}

/** Why the autoglm policy cannot run here, or undefined when it can. */
export function autoglmUnavailableReason(options: AutoglmOptions = {}): string | undefined {
  const wasm = options.wasmPath ?? join(projectRoot(), "build", "filter.wasm");
  if (!existsSync(wasm)) return `the filter module ${wasm} is missing: run \`npm run build:filter\``;
  return undefined;
}

/** A streamed answer's response headers (vLLM's StreamingResponse: ../notes S5, S6). */
const STREAM_RESPONSE_HEADERS: Array<[string, string]> = [
  [":status", "200"],
  ["content-type", "text/event-stream; charset=utf-8"],
  ["cache-control", "no-cache"],
];

/**
 * A host's load report as the `endpoint-load-metrics` response header, in the TEXT form Envoy
 * parses (source/common/orca/orca_parser.cc: "TEXT " then comma-separated key=value pairs of
 * xds.data.orca.v3.OrcaLoadReport fields), which the filter reads (filter/src/core/orca.ts).
 */
export function orcaHeader(load: HostLoad): [string, string] {
  const n = (x: number): string => String(Number(x.toFixed(4)));
  return ["endpoint-load-metrics", `TEXT application_utilization=${n(load.utilization)}, rps_fractional=${n(load.rpsFractional)}, eps=${n(load.eps)}`];
}

const REQUEST_HEADERS: Array<[string, string]> = [
  [":method", "POST"],
  [":path", "/v1/chat/completions"],
  [":authority", "llm.mesh.local"],
  [":scheme", "http"],
  ["content-type", "application/json"],
];

/** The EDS address the simulator gives host `host` of cluster `cluster` (host ejection): 10.<cluster>.<host>. */
function simEndpointAddress(cluster: number, host: number): string {
  return `10.${cluster}.${host >> 8}.${host & 255}`;
}

/** Builds the autoglm policy: loads the filter, starts one plugin per sidecar and the control plane. */
export async function createAutoglmPolicy(scenario: Scenario, seed: number, options: AutoglmOptions = {}): Promise<Policy> {
  const unavailable = autoglmUnavailableReason(options);
  if (unavailable !== undefined) throw new Error(`autoglm policy unavailable: ${unavailable}`);
  const wasm = options.wasmPath ?? join(projectRoot(), "build", "filter.wasm");
  const host = await import("../../filter/host/index.js");
  const { ControlPlane } = await import("../../control-plane/src/service.js");

  const clock: ManualClockType = new host.ManualClock(EPOCH_MS);
  const cpRandom = new Xoshiro128(seed, STREAM.controlPlane);
  const logger = createLogger("sim.autoglm", "error");
  let modelScorer: Scorer | undefined;
  const modelPath = options.modelPath ?? join(projectRoot(), "models", "anomaly.onnx");
  if (modelPath !== "" && existsSync(modelPath)) {
    const { createModelScorer } = await import("../../control-plane/src/model/index.js");
    const loaded = await createModelScorer({ path: modelPath, slo: { latencyMs: scenario.slo.latency_ms, successRate: scenario.slo.success_rate }, logger });
    if ("scorer" in loaded) modelScorer = loaded.scorer;
  }
  const cp: ControlPlaneType = new ControlPlane({
    clusters: scenario.clusters.map((c) => ({ name: c.name, baseWeight: c.weight })),
    // The stream objectives (ttftMs, tpotMs) reach a control plane that knows them (issue 21's
    // control-plane part); one that does not ignores them.
    slo: {
      latencyMs: scenario.slo.latency_ms, successRate: scenario.slo.success_rate,
      ...(scenario.slo.ttft_ms !== undefined ? { ttftMs: scenario.slo.ttft_ms } : {}),
      ...(scenario.slo.tpot_ms !== undefined ? { tpotMs: scenario.slo.tpot_ms } : {}),
    },
    now: () => clock.now(),
    random: () => cpRandom.next(),
    logger,
    ...(modelScorer !== undefined ? { modelScorer } : {}),
    ...(scenario.triggers === undefined ? {} : { triggers: scenario.triggers }),
  });
  const triggerEvents: SimTriggerEvent[] = [];
  cp.on("trigger", (event) => triggerEvents.push(simTriggerEvent(event, EPOCH_MS)));
  const transport = new host.InProcessGrpcTransport((request, toSidecar) =>
    request.cluster === CONTROL_PLANE_CLUSTER
      ? cp.openInProcessStream(Object.fromEntries(request.metadata), toSidecar)
      : null,
  );
  const module = await host.loadProxyWasmModule(wasm);
  const plugins: ProxyWasmPlugin[] = [];
  for (let i = 0; i < scenario.sidecars; i++) {
    plugins.push(
      await host.ProxyWasmPlugin.start({
        wasm: module,
        configuration: {
          node_id: `sidecar-${i + 1}`,
          zone: "zone-a",
          control_plane: { cluster: CONTROL_PLANE_CLUSTER, timeout_ms: 5000, token: "" },
          window_ms: Math.round(scenario.window_s * 1000),
          clusters: scenario.clusters.map((c) => ({ name: c.name, weight: c.weight })),
          headers: { cluster: "x-autoglm-cluster", explicit_cluster: "x-autoglm-target", ...(options.readLoadReports === false ? { upstream_load: "" } : {}) },
        },
        workers: 1,
        clock,
        grpc: transport,
        properties: { "node.id": `sidecar-${i + 1}` },
        logLevel: "error",
        logger,
        failOpen: true,
      }),
    );
  }

  const clusterIndex = new Map(scenario.clusters.map((c, i) => [c.name, i]));
  const outlierDetection = options.hostOutlierDetection ?? "local_origin";
  const activeHealthCheck = options.activeHealthCheck ?? true;
  const timeline = new FaultTimeline(scenario);
  const balancer = new EnvoyLoadBalancer(
    scenario,
    outlierDetection === "local_origin" ? LOCAL_ORIGIN_ONLY : {},
    activeHealthCheck ? { downChance: (c, h, atS) => timeline.effectOn(c, h, atS).downChance, seed } : undefined,
    options.panicThreshold ?? (activeHealthCheck ? SHIPPED_PANIC_THRESHOLD : PANIC_THRESHOLD),
  );
  // Mesh-wide host ejection: each cluster's hosts as EDS endpoints 10.<cluster>.<host>:8000; the
  // hosts' counters over a window, summed over the sidecars, are what their LRS reports add up to.
  const hostHealth = (options.hostEjection ?? false)
    ? new HostHealth(scenario.clusters.map((c, ci) => ({ name: c.name, endpoints: Array.from({ length: c.endpoints }, (_, h) => ({ address: simEndpointAddress(ci, h), port: 8000 })) })))
    : undefined;
  // inFlight: the host's requests under way now (Envoy's rq_active gauge, which LRS reports as
  // total_requests_in_progress); successful, errors and issued (sent) are latched per report.
  const hostCounters = scenario.clusters.map((c) => Array.from({ length: c.endpoints }, () => ({ successful: 0, errors: 0, issued: 0, inFlight: 0 })));
  if (hostHealth !== undefined) balancer.edsUnhealthy = (c, h) => hostHealth.isUnhealthy(c, h);
  // Debugging aid: AUTOGLM_SIM_HOST_TRACE=<file> appends the run's host ejections as one JSON line.
  const hostTracePath = process.env.AUTOGLM_SIM_HOST_TRACE;
  const hostEvents: EndpointHealthEvent[] = [];
  const inFlight = new Map<number, HttpStream>();
  /** Requests whose streamed response has started (headers sent). */
  const streaming = new Set<number>();
  const toEpoch = (s: number): number => EPOCH_MS + s * 1000;
  // Debugging aid: AUTOGLM_SIM_TRACE=<file> appends every new decision set as a JSON line.
  const tracePath = process.env.AUTOGLM_SIM_TRACE;
  let lastTracedVersion = -1;

  return {
    name: options.name ?? "autoglm",
    route(request: SimRequest, nowS: number): RouteDecision {
      clock.advanceTo(toEpoch(nowS));
      const stream = plugins[request.sidecar]!.createHttpStream();
      stream.sendRequestHeaders(REQUEST_HEADERS, true);
      if (stream.localReply !== null) {
        const why = stream.localReply.headers.get("x-autoglm-local-reply") ?? "local_reply";
        stream.complete();
        return { reject: why };
      }
      const name = stream.requestHeaders.get("x-autoglm-cluster");
      const cluster = name === undefined || name === null ? undefined : clusterIndex.get(name);
      if (cluster === undefined) {
        // Envoy's cluster_header route with no (or an unknown) cluster answers 503 itself.
        stream.sendResponseHeaders([[":status", "503"]], true);
        stream.complete();
        return { reject: "no_cluster_header" };
      }
      const host = balancer.pickHost(request.sidecar, cluster);
      if (host === NO_HEALTHY_HOST) {
        // Panic mode off and every host of the cluster out: Envoy's router answers 503 itself,
        // response flag UH (no healthy upstream), and the filter sees it as the cluster's failure.
        stream.setProperty("response.flags", "UH");
        stream.sendResponseHeaders([[":status", "503"]], true);
        stream.complete();
        return { reject: "no_healthy_upstream" };
      }
      inFlight.set(request.id, stream);
      if (hostHealth !== undefined) {
        hostCounters[cluster]![host]!.inFlight++;
        hostCounters[cluster]![host]!.issued++;
      }
      return { cluster, host };
    },
    complete(request, cluster, host, status, _latencyMs, nowS, connectFailed, load) {
      clock.advanceTo(toEpoch(nowS));
      if (hostHealth !== undefined && host >= 0) {
        // Envoy's host rq_error: a 5xx, or a reset or timeout the router charges as one
        // (source/common/router/router.cc, Filter::chargeUpstreamCode); else rq_success.
        const counters = hostCounters[cluster]![host]!;
        counters.inFlight--;
        if (status >= 500) counters.errors++;
        else counters.successful++;
      }
      if (outlierDetection !== "none") balancer.onResult(request.sidecar, cluster, host, status, nowS, connectFailed);
      const stream = inFlight.get(request.id);
      if (stream === undefined) return;
      inFlight.delete(request.id);
      if (streaming.delete(request.id)) {
        // The stream's body already ended (end_of_stream on its last chunk) unless it was reset
        // after its headers, or the client's timeout came before its first token.
        if (status === 502) stream.setProperty("response.flags", "UR");
        else if (status === 504) stream.setProperty("response.flags", "UT");
        options.onStreamComplete?.(stream, status);
        stream.complete();
        return;
      }
      if (status === 504) stream.setProperty("response.flags", "UT");
      // A refused connection: Envoy's router answers a local 503 with the response flag UF
      // (upstream connection failure; Filter::onUpstreamReset, source/common/router/router.cc).
      else if (connectFailed) stream.setProperty("response.flags", "UF");
      stream.sendResponseHeaders(load === undefined ? [[":status", String(status)]] : [[":status", String(status)], orcaHeader(load)], true);
      options.onStreamComplete?.(stream, status);
      stream.complete();
    },
    streams: {
      headers(request, nowS, load) {
        const stream = inFlight.get(request.id);
        if (stream === undefined) return;
        clock.advanceTo(toEpoch(nowS));
        streaming.add(request.id);
        stream.sendResponseHeaders(load === undefined ? STREAM_RESPONSE_HEADERS : [...STREAM_RESPONSE_HEADERS, orcaHeader(load)], false);
      },
      body(request, chunk, endOfStream, nowS) {
        const stream = inFlight.get(request.id);
        if (stream === undefined) return;
        clock.advanceTo(toEpoch(nowS));
        stream.sendResponseBody(chunk, endOfStream);
      },
    },
    nextTimerS: () => balancer.nextTimerS(),
    timer: (nowS) => balancer.timer(nowS),
    windowEnd(_window, endS) {
      clock.advanceTo(toEpoch(endS));
      if (hostHealth !== undefined) {
        const loads: EndpointLoad[] = [];
        hostCounters.forEach((hosts, ci) => hosts.forEach((counters, h) => {
          loads.push({ cluster: scenario.clusters[ci]!.name, address: simEndpointAddress(ci, h), port: 8000, successful: counters.successful, errors: counters.errors, issued: counters.issued, inProgress: counters.inFlight });
          counters.successful = 0;
          counters.errors = 0;
          counters.issued = 0;
        }));
        hostHealth.addLoads(loads);
        const changes = hostHealth.judge(endS, clusterLoads(cp.clusterStatuses(), scenario.slo.latency_ms));
        if (hostTracePath !== undefined) hostEvents.push(...changes);
      }
      return cp.decide().then(() => {
        options.onRound?.(cp.clusterStatuses());
        if (tracePath === undefined) return;
        const set = cp.currentDecisions();
        const scores = cp.clusterStatuses().map((c) => {
          const w = c.recent.at(-1);
          const per = Object.entries(c.scorers).map(([k, r]) => `${k}=${r.score.toFixed(2)}${r.hard ? "!" : ""}`).join(",");
          return `${c.cluster} cap=${Math.round(c.capacity.safeRps)}/${Math.round(c.capacity.kneeRps)}/${Math.round(c.capacity.limitRps)} n=${w?.requests ?? 0} err=${(w?.errorRate ?? 0).toFixed(3)} p50=${Math.round(w?.p50Ms ?? 0)} p99=${Math.round(w?.p99Ms ?? 0)} ${per}`;
        });
        const changed = set.version !== lastTracedVersion;
        lastTracedVersion = set.version;
        const clusters = set.clusters.map((d) => `${d.cluster}:${d.state}:${d.weight}:${d.anomalyScore}:${d.reason}`);
        appendFileSync(tracePath, `${JSON.stringify({ t: endS, version: set.version, ...(changed ? { clusters } : {}), scores })}\n`);
      });
    },
    isOpen(cluster) {
      const name = scenario.clusters[cluster]!.name;
      return cp.currentDecisions().clusters.some((d) => d.cluster === name && d.state === "open");
    },
    triggerEvents: () => [...triggerEvents],
    async close() {
      if (hostHealth !== undefined && hostTracePath !== undefined) appendFileSync(hostTracePath, `${JSON.stringify(hostEvents)}\n`);
      for (const p of plugins) p.close();
      await cp.stop();
    },
  };
}
