// A follower's telemetry path to the leader (docs/design/replicas.md): its sidecars' reports are
// merged per window (partial-windows.ts) and sent over one gRPC stream to the leader's sidecar
// endpoint (autoglm.v1.TrafficGuard/Connect), as if this replica were one sidecar worker whose
// node id is `replica/<id>`. The leader needs nothing new: it merges that stream's windows with
// its own sidecars' and counts the follower as one reporter. A window that cannot be sent (no
// leader yet, the stream down) is dropped and counted: the leader closes the window without it,
// as it does for any missing reporter.
import * as grpc from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import type { Logger } from "../../../lib/log.js";
import { ClusterWindowSchema, LatencyHistogramSchema, SidecarMessageSchema, SourceCountSchema, TelemetryReportSchema } from "../../../proto/gen/autoglm/v1/traffic_guard_pb.js";
import type { WorkerReport } from "../core/types.js";
import { MAX_REPORT_SOURCES } from "../grpc/convert.js";
import { REPLICA_NODE_PREFIX } from "../core/halt/remote-workers.js";
import { CONNECT_PATH } from "../grpc/server.js";
import { streamsToProto } from "../grpc/stream-convert.js";
import { PartialWindows, type MergedWindow } from "./partial-windows.js";

/** How often merged windows are taken and sent, ms. */
const FLUSH_EVERY_MS = 100;

export interface ForwarderOptions {
  replicaId: string;
  /** The configured clusters (the hello names them). */
  clusters: readonly string[];
  /** The sidecar bearer token the leader expects (grpc.token; "" for none). */
  token: string;
  /** How long after its end a window waits for this replica's missing sidecars, ms. */
  flushDelayMs: number;
  /** The control plane's clock, epoch ms. */
  now(): number;
  logger: Logger;
}

export class TelemetryForwarder {
  private readonly windows: PartialWindows;
  private target: string | undefined;
  private client: grpc.Client | undefined;
  private call: grpc.ClientDuplexStream<Uint8Array, Buffer> | undefined;
  private sequence = 0;
  private timer: NodeJS.Timeout | undefined;
  private warnedFor: string | undefined;
  /** Merged windows sent, and dropped (no leader to send them to, or the stream was down). */
  readonly counts = { forwarded: 0, dropped: 0 };

  constructor(private readonly options: ForwarderOptions) {
    this.windows = new PartialWindows(options.flushDelayMs, MAX_REPORT_SOURCES);
  }

  /** What the control plane feeds while it follows (service.ts followerTelemetry). */
  readonly sink = {
    report: (reporter: string, report: WorkerReport): void => this.windows.add(reporter, report),
    forget: (reporter: string): void => this.windows.forget(reporter),
  };

  start(): void {
    this.timer ??= setInterval(() => this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  /** The leader's gRPC address (host:port); undefined while there is none or this replica leads. */
  setTarget(address: string | undefined): void {
    if (address === this.target) return;
    this.closeCall();
    this.target = address;
    this.options.logger.info({ leader: address }, address === undefined ? "telemetry: not forwarding" : "telemetry: forwarding merged windows to the leader");
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.closeCall();
  }

  private flush(): void {
    for (const window of this.windows.take(this.options.now())) {
      const call = this.target === undefined ? undefined : this.ensureCall(this.target);
      if (call === undefined) {
        this.counts.dropped++;
        continue;
      }
      this.sequence++;
      call.write(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "report", value: reportMessage(window, this.sequence) } })));
      this.counts.forwarded++;
    }
  }

  private ensureCall(target: string): grpc.ClientDuplexStream<Uint8Array, Buffer> | undefined {
    if (this.call !== undefined) return this.call;
    this.client ??= new grpc.Client(target, grpc.credentials.createInsecure());
    const md = new grpc.Metadata();
    if (this.options.token !== "") md.set("authorization", `Bearer ${this.options.token}`);
    const call = this.client.makeBidiStreamRequest<Uint8Array, Buffer>(CONNECT_PATH, (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength), (b) => b, md);
    // The leader pushes its decision sets on this stream too: this replica has them from etcd.
    call.on("data", () => undefined);
    const ended = (why: string) => {
      if (this.call !== call) return;
      this.call = undefined;
      if (this.warnedFor !== target) {
        this.warnedFor = target;
        this.options.logger.warn({ leader: target, reason: why }, "telemetry: the stream to the leader ended; reconnecting with the next window");
      }
    };
    call.on("error", (error: Error) => ended(error.message));
    call.on("end", () => ended("the leader closed it"));
    const hello = { nodeId: `${REPLICA_NODE_PREFIX}${this.options.replicaId}`, zone: "", workerId: 0, filterVersion: "control-plane-replica", clusters: [...this.options.clusters] };
    call.write(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "hello", value: hello } })));
    this.call = call;
    this.sequence = 0;
    return call;
  }

  private closeCall(): void {
    const call = this.call;
    this.call = undefined;
    call?.end();
    this.client?.close();
    this.client = undefined;
  }
}

function reportMessage(window: MergedWindow, sequence: number) {
  return create(TelemetryReportSchema, {
    windowStartMs: BigInt(window.windowStartMs),
    windowLengthMs: window.windowLengthMs,
    sequence: BigInt(sequence),
    enforcedVersion: 0n,
    clusters: window.clusters.map((c) =>
      create(ClusterWindowSchema, {
        cluster: c.cluster,
        requests: c.requests,
        errors5xx: c.errors5xx,
        localRejects: c.localRejects,
        timeouts: c.timeouts,
        resets: c.resets,
        grpcErrors: c.grpcErrors,
        ...(c.failed !== undefined ? { failed: c.failed } : {}),
        totalLatency: create(LatencyHistogramSchema, {
          firstBucket: c.totalLatency.firstBucket,
          counts: [...c.totalLatency.counts],
          sumUs: BigInt(Math.round(c.totalLatency.sumUs)),
          maxUs: BigInt(Math.round(c.totalLatency.maxUs)),
        }),
        ...(c.streams !== undefined ? { streams: streamsToProto(c.streams) } : {}),
      }),
    ),
    // Who sent them, merged over this replica's sidecars (partial-sources.ts).
    ...(window.sources === undefined
      ? {}
      : { sources: window.sources.sources.map((s) => create(SourceCountSchema, s)), sourcesTotal: BigInt(window.sources.total) }),
  });
}
