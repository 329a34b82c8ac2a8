// Shared pieces of the filter tests (test/filter-*.test.ts): the compiled filter, a base
// configuration, a scriptable in-process control plane, and protobuf helpers.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  BreakerState,
  ControlMessageSchema,
  DecisionSetSchema,
  SidecarMessageSchema,
  type ClusterDecision,
  type SourceLimit,
  type SidecarMessage,
  type TelemetryReport,
} from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import type { GrpcRequest, InProcessPeer, InProcessServerStream, ManualClock } from "../filter/host/index.js";
import { PluginTester } from "../filter/host/index.js";

export { BreakerState };

/** When a configured worker's first tick comes (and its control-plane stream opens), ms. */
export const FIRST_TICK_MS = 10;

/** The release build the tests exercise (npm run build:filter). */
export const FILTER_WASM = "build/filter.wasm";

export const BASE_CONFIG = {
  node_id: "sidecar-1",
  zone: "zone-a",
  window_ms: 1000,
  clusters: [
    { name: "llm-a", weight: 50 },
    { name: "llm-b", weight: 50 },
  ],
};

/** One stream the filter opened to the fake control plane. */
export interface CpStream {
  request: GrpcRequest;
  peer: InProcessPeer;
  /** Decoded messages from the filter, in order. */
  fromFilter: SidecarMessage[];
  closedByFilter: boolean;
}

/** A control plane that records streams and lets the test push messages or close them. */
export class FakeControlPlane {
  streams: CpStream[] = [];
  /** While true, new streams are refused (the host reports the cluster unknown). */
  down = false;
  /** While true, new streams are accepted and at once end with UNAVAILABLE, as a gRPC client's
   *  stream does when nothing listens at the control plane's address. */
  unavailable = false;
  /** Streams the filter tried to open (accepted, refused or failed). */
  attempts = 0;

  readonly accept = (request: GrpcRequest, peer: InProcessPeer): InProcessServerStream | null => {
    this.attempts++;
    if (this.down) return null;
    if (this.unavailable) {
      // Delivered after the module's call returns (the host queues it), as a connect error is.
      peer.onClose(14, "No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1");
      return { send: () => {}, close: () => {} };
    }
    const stream: CpStream = { request, peer, fromFilter: [], closedByFilter: false };
    this.streams.push(stream);
    return {
      send: (bytes: Uint8Array) => stream.fromFilter.push(fromBinary(SidecarMessageSchema, bytes)),
      close: () => {
        stream.closedByFilter = true;
      },
    };
  };

  /** The newest stream (of a worker, by its hello's worker_id, when given). */
  latest(workerId?: number): CpStream {
    const candidates = workerId === undefined
      ? this.streams
      : this.streams.filter((s) => {
          const hello = s.fromFilter[0];
          return hello?.kind.case === "hello" && hello.kind.value.workerId === workerId;
        });
    const s = candidates[candidates.length - 1];
    if (s === undefined) throw new Error("the filter opened no control-plane stream");
    return s;
  }

  /** Sends raw bytes to the filter on a stream. */
  sendRaw(bytes: Uint8Array, stream: CpStream = this.latest()): void {
    stream.peer.onMessage(bytes);
  }

  /** Sends a decision set. */
  push(set: DecisionInit, stream: CpStream = this.latest()): void {
    this.sendRaw(decisionBytes(set), stream);
  }

  /** Closes every open stream from the server side with a gRPC status. */
  closeAll(code = 14, details = "control plane going away"): void {
    for (const s of this.streams) s.peer.onClose(code, details);
  }

  /** Every message the filter sent of one kind, across streams. */
  sent<K extends SidecarMessageKind>(kind: K): Array<SidecarMessageValue<K>> {
    const out: Array<SidecarMessageValue<K>> = [];
    for (const s of this.streams) {
      for (const m of s.fromFilter) {
        const oneof = m.kind as { case: string | undefined; value?: unknown };
        if (oneof.case === kind) out.push(oneof.value as SidecarMessageValue<K>);
      }
    }
    return out;
  }
}

/** The case names of the sidecar message's oneof. */
export type SidecarMessageKind = NonNullable<SidecarMessage["kind"]["case"]>;
/** The message carried by one case of the sidecar message's oneof. */
export type SidecarMessageValue<K extends SidecarMessageKind> = Extract<SidecarMessage["kind"], { case: K }>["value"];

export interface DecisionInit {
  version: bigint | number;
  ttlMs?: number;
  halted?: boolean;
  haltReason?: string;
  shedFraction?: number;
  shedReason?: string;
  /** DecisionSet.halt_mode: 0 unspecified, 1 drain, 2 immediate. */
  haltMode?: number;
  clusters: Array<Partial<Pick<ClusterDecision, "cluster" | "state" | "weight" | "probeFraction" | "retryAfterS" | "reason" | "anomalyScore" | "shedFraction">>>;
  sourceLimits?: Array<Partial<Pick<SourceLimit, "source" | "deny" | "admitFraction" | "retryAfterS" | "reason" | "capPerS">>>;
}

/** ControlMessage{decisions} bytes. */
export function decisionBytes(set: DecisionInit): Uint8Array {
  return toBinary(
    ControlMessageSchema,
    create(ControlMessageSchema, {
      kind: {
        case: "decisions",
        value: create(DecisionSetSchema, {
          version: BigInt(set.version),
          issuedAtMs: 0n,
          ttlMs: set.ttlMs ?? 30_000,
          halted: set.halted ?? false,
          haltReason: set.haltReason ?? "",
          shedFraction: set.shedFraction ?? 0,
          shedReason: set.shedReason ?? "",
          haltMode: set.haltMode ?? 0,
          clusters: set.clusters.map((c) => ({ state: BreakerState.CLOSED, ...c })),
          sourceLimits: set.sourceLimits ?? [],
        }),
      },
    }),
  );
}

/** Starts the filter with a fake control plane. */
export async function startFilter(
  config: object = BASE_CONFIG,
  options: { workers?: number; cp?: FakeControlPlane } = {},
): Promise<{ t: PluginTester; cp: FakeControlPlane }> {
  const cp = options.cp ?? new FakeControlPlane();
  const t = await PluginTester.start({
    wasm: FILTER_WASM,
    configuration: config,
    grpc: cp.accept,
    workers: options.workers ?? 1,
    logLevel: "warn",
  });
  // Each worker opens its stream on its first tick (never in proxy_on_configure, which Envoy also
  // runs in a throw-away configuration-check VM): FIRST_TICK_MS in filter/src/filter/root.ts.
  t.advance(FIRST_TICK_MS);
  return { t, cp };
}

/**
 * Starts the filter on a manual clock (one worker, 1-s windows, one cluster "a") and hands each
 * telemetry report it sends to `onReport` with the clock's time then (ms after the clock's start).
 */
export async function startReportingFilter(clock: ManualClock, onReport: (report: TelemetryReport, sentAtMs: number) => void): Promise<PluginTester> {
  const startMs = clock.now();
  return PluginTester.start({
    wasm: FILTER_WASM,
    clock,
    workers: 1,
    logLevel: "error",
    configuration: { node_id: "n", zone: "z", window_ms: 1000, control_plane: { cluster: "cp", timeout_ms: 5000 }, clusters: [{ name: "a", weight: 1 }] },
    grpc: (_req: GrpcRequest, _peer: InProcessPeer) => ({
      send(bytes: Uint8Array) {
        const m = fromBinary(SidecarMessageSchema, bytes);
        if (m.kind.case === "report") onReport(m.kind.value, clock.now() - startMs);
      },
      close() {},
    }),
  });
}

/** Sends n plain requests and counts the chosen cluster (or "<status>:<why>" for local replies). */
export function spread(t: PluginTester, n: number, headers: Record<string, string> = {}, worker?: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const x = t.request({ headers: { ":path": "/v1/chat", ...headers }, ...(worker !== undefined ? { worker } : {}) });
    const key = x.localReply !== null
      ? `${x.localReply.status}:${x.localReply.headers.get("x-autoglm-local-reply") ?? "?"}`
      : (x.requestHeaders["x-autoglm-cluster"] ?? "none");
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/**
 * Sends n requests through the filter as Envoy's stream callbacks do, on worker `worker` (default
 * the first), each routed one answered by `status(cluster)` (default 200). Counts by the chosen
 * cluster, or "local:<why>" for the filter's local replies (x-autoglm-local-reply).
 */
export function traffic(t: PluginTester, n: number, opts: { worker?: number; status?: (cluster: string) => number } = {}): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const stream = t.plugin.createHttpStream(opts.worker);
    stream.sendRequestHeaders([[":method", "POST"], [":path", "/v1/chat"], [":authority", "llm"], [":scheme", "http"]], true);
    let key: string;
    if (stream.localReply !== null) key = `local:${stream.localReply.headers.get("x-autoglm-local-reply") ?? "?"}`;
    else {
      key = stream.requestHeaders.get("x-autoglm-cluster") ?? "none";
      stream.sendResponseHeaders([[":status", String(opts.status?.(key) ?? 200)]], true);
    }
    stream.complete();
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** A seeded pseudo-random source (mulberry32) for fuzz tests. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
