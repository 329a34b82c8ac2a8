// A fleet of simulated sidecar workers over real gRPC (for `autoglm bench control-plane`): each
// stream says hello, reports one window a second for its clusters (a little after the second,
// at a per-stream offset), and acknowledges every decision set it receives. Run in a child
// process so the control plane has its own CPU; it talks to the parent over IPC:
//   parent -> child: { type: "start", config: FleetConfig }   and   { type: "stop" }
//   child -> parent: { type: "connected", streams }, { type: "received", version, count, lastAtMs },
//                    { type: "done", stats: FleetStats }
// Times are high-resolution epoch milliseconds (performance.timeOrigin + performance.now()).
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { pathToFileURL } from "node:url";
import {
  ClusterWindowSchema,
  ControlMessageSchema,
  LatencyHistogramSchema,
  SidecarMessageSchema,
  TelemetryReportSchema,
} from "../../../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { latencyCounts } from "../core/report-builder.js";
import { CONNECT_PATH } from "./server.js";

export interface FleetConfig {
  target: string;
  sidecars: number;
  clusters: string[];
  /** Requests per stream and cluster per window. */
  requestsPerWindow: number;
  /** Cluster that fails (error rate 100%) during `faultOnS` seconds of every `faultEveryS`. */
  faultCluster?: string;
  faultEveryS: number;
  faultOnS: number;
  token?: string;
  /** Streams per HTTP/2 connection. */
  streamsPerChannel: number;
}

export interface FleetStats {
  reportsSent: number;
  decisionsReceived: number;
  streamErrors: number;
  errorSamples: string[];
}

export type FleetMessage =
  | { type: "connected"; streams: number }
  | { type: "received"; version: number; count: number; lastAtMs: number }
  | { type: "done"; stats: FleetStats };

export const hrNow = (): number => performance.timeOrigin + performance.now();

const identity = (b: Buffer): Buffer => b;
const toBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

function runFleet(config: FleetConfig, send: (m: FleetMessage) => void): () => void {
  const stats: FleetStats = { reportsSent: 0, decisionsReceived: 0, streamErrors: 0, errorSamples: [] };
  const perVersion = new Map<number, { count: number; lastAtMs: number }>();
  const clients: grpc.Client[] = [];
  const calls: grpc.ClientDuplexStream<Uint8Array, Buffer>[] = [];
  const timers: NodeJS.Timeout[] = [];
  let connected = 0;
  let stopping = false;
  // A fixed set of latency samples per cluster state (the report content barely matters).
  const healthyLat = Array.from({ length: config.requestsPerWindow }, (_, i) => 150 + ((i * 37) % 300));
  const histogram = (lat: number[]) => {
    const h = latencyCounts(lat);
    return create(LatencyHistogramSchema, { firstBucket: h.firstBucket, counts: [...h.counts], sumUs: BigInt(h.sumUs), maxUs: BigInt(h.maxUs) });
  };
  const healthyHist = histogram(healthyLat);
  const noteError = (msg: string) => {
    stats.streamErrors++;
    if (stats.errorSamples.length < 5) stats.errorSamples.push(msg);
  };

  for (let i = 0; i < config.sidecars; i++) {
    const channelIndex = Math.floor(i / config.streamsPerChannel);
    if (clients[channelIndex] === undefined) {
      clients[channelIndex] = new grpc.Client(config.target, grpc.credentials.createInsecure(), {
        "grpc.use_local_subchannel_pool": 1,
        "grpc.max_receive_message_length": 4 * 1024 * 1024,
      });
    }
    const md = new grpc.Metadata();
    if (config.token) md.set("authorization", `Bearer ${config.token}`);
    const call = clients[channelIndex]!.makeBidiStreamRequest<Uint8Array, Buffer>(CONNECT_PATH, toBuffer, identity, md);
    calls.push(call);
    let enforced = 0;
    let sequence = 0;
    let first = true;
    call.on("data", (bytes: Buffer) => {
      const at = hrNow();
      const msg = fromBinary(ControlMessageSchema, bytes);
      if (msg.kind.case !== "decisions") return;
      const version = Number(msg.kind.value.version);
      stats.decisionsReceived++;
      if (first) {
        first = false;
        connected++;
        if (connected === config.sidecars) send({ type: "connected", streams: connected });
      }
      enforced = version;
      const v = perVersion.get(version) ?? { count: 0, lastAtMs: 0 };
      v.count++;
      v.lastAtMs = Math.max(v.lastAtMs, at);
      perVersion.set(version, v);
      if (v.count === config.sidecars) send({ type: "received", version, count: v.count, lastAtMs: v.lastAtMs });
      call.write(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "ack", value: { version: BigInt(version) } } })));
    });
    call.on("error", (err: grpc.ServiceError) => {
      if (!stopping) noteError(`stream ${i}: ${err.code} ${err.details}`);
    });
    call.write(
      toBinary(
        SidecarMessageSchema,
        create(SidecarMessageSchema, { kind: { case: "hello", value: { nodeId: `bench-${i}`, zone: `zone-${i % 3}`, workerId: 0, filterVersion: "bench", clusters: config.clusters, instanceId: BigInt(i + 1) } } }),
      ),
    );
    // Report once a second, offset 20..220 ms after the second (per stream), for the window just ended.
    const offsetMs = 20 + ((i * 7919) % 200);
    const tick = () => {
      if (stopping) return;
      const now = Date.now();
      const windowStart = Math.floor(now / 1000) * 1000 - 1000;
      const faulty = config.faultCluster !== undefined && Math.floor(windowStart / 1000) % config.faultEveryS < config.faultOnS;
      sequence++;
      const report = create(TelemetryReportSchema, {
        windowStartMs: BigInt(windowStart),
        windowLengthMs: 1000,
        sequence: BigInt(sequence),
        enforcedVersion: BigInt(enforced),
        clusters: config.clusters.map((cluster) =>
          create(ClusterWindowSchema, {
            cluster,
            requests: config.requestsPerWindow,
            errors5xx: faulty && cluster === config.faultCluster ? config.requestsPerWindow : 0,
            totalLatency: healthyHist,
          }),
        ),
      });
      call.write(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "report", value: report } })));
      stats.reportsSent++;
      schedule();
    };
    const schedule = () => {
      const now = Date.now();
      const next = Math.floor(now / 1000) * 1000 + 1000 + offsetMs;
      timers[i] = setTimeout(tick, next - now);
    };
    schedule();
  }

  return () => {
    stopping = true;
    for (const t of timers) clearTimeout(t);
    for (const c of calls) c.end();
    for (const c of clients) c.close();
    send({ type: "done", stats });
  };
}

// Child-process entry: driven by the parent over IPC.
if (process.send !== undefined && import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  let stop: (() => void) | undefined;
  process.on("message", (m: { type: "start"; config: FleetConfig } | { type: "stop" }) => {
    if (m.type === "start") stop = runFleet(m.config, (msg) => process.send!(msg));
    else {
      stop?.();
      setTimeout(() => process.exit(0), 200);
    }
  });
}
