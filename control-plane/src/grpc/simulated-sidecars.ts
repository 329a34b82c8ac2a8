// A fleet of simulated sidecar workers over real gRPC (for `autoglm bench control-plane`): each
// stream says hello, reports one window a second for its clusters (a little after the second,
// at a per-stream offset), and acknowledges every decision set it receives. Run in a child
// process so the control plane has its own CPU; it talks to the parent over IPC:
//   parent -> child: { type: "start", config: FleetConfig }   and   { type: "stop" }
//   child -> parent: { type: "connected", streams }, { type: "received", version, count, lastAtMs },
//                    { type: "done", stats: FleetStats }
// Times are high-resolution epoch milliseconds (performance.timeOrigin + performance.now()).
import * as grpc from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import {
  type ClusterWindow,
  ClusterWindowSchema,
  LatencyHistogramSchema,
  SidecarMessageSchema,
  TelemetryReportSchema,
} from "../../../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { latencyCounts } from "../core/report-builder.js";
import { CONNECT_PATH } from "./server.js";

export interface FleetConfig {
  target: string;
  /** Several control-plane replicas: connection i goes to targets[i % n] (target is then unused). */
  targets?: string[];
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
  /** Event-loop delay of the fleet process while it ran, ms (p99 and max). */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export type FleetMessage =
  | { type: "connected"; streams: number }
  | { type: "received"; version: number; count: number; lastAtMs: number }
  | { type: "done"; stats: FleetStats };

export const hrNow = (): number => performance.timeOrigin + performance.now();

const identity = (b: Buffer): Buffer => b;
const toBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

// ------------------------------------------------------------------ hand-rolled wire helpers
// The fleet sends 2000+ reports a second from one process; encoding each with protobuf-es
// create/toBinary (and decoding every pushed decision set) costs more CPU than the control plane
// under test. What does not change per tick (the cluster windows with their histograms) is encoded
// once with protobuf-es; the few varying varint fields are written by hand.

/** Bytes of a non-negative integer (< 2^53) as a protobuf varint. */
function varintLength(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v >= 128) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

/**
 * Serialised SidecarMessage{report: TelemetryReport{...}} from the pre-encoded `clusters` field
 * entries (tag 5, as protobuf-es writes them). Zero-valued scalars are left out, as in proto3.
 */
export function encodeReportMessage(windowStartMs: number, windowLengthMs: number, sequence: number, enforcedVersion: number, clusterFields: Uint8Array): Buffer {
  // TelemetryReport fields 1–4 as [tag byte (field << 3 | varint), value], zeros left out.
  const scalars: Array<[number, number]> = [
    [0x08, windowStartMs],
    [0x10, windowLengthMs],
    [0x18, sequence],
    [0x20, enforcedVersion],
  ].filter(([, v]) => v !== 0) as Array<[number, number]>;
  const inner = scalars.reduce((a, [, v]) => a + 1 + varintLength(v), clusterFields.length);
  const buf = Buffer.allocUnsafe(1 + varintLength(inner) + inner);
  let pos = 0;
  buf[pos++] = 0x12; // SidecarMessage.report (2, length-delimited)
  pos = writeVarint(buf, pos, inner);
  for (const [tag, v] of scalars) {
    buf[pos++] = tag;
    pos = writeVarint(buf, pos, v);
  }
  buf.set(clusterFields, pos);
  return buf;
}

/** The `clusters` entries (field 5 of TelemetryReport) of a report, serialised once. */
export function encodeClusterFields(windows: ClusterWindow[]): Uint8Array {
  // A report with only the clusters set serialises to exactly the repeated field 5 entries.
  return toBinary(TelemetryReportSchema, create(TelemetryReportSchema, { clusters: windows }));
}

/** Serialised SidecarMessage{ack: DecisionAck{version}}. */
export function encodeAckMessage(version: number): Buffer {
  const inner = version === 0 ? 0 : 1 + varintLength(version);
  const buf = Buffer.allocUnsafe(2 + inner);
  buf[0] = 0x1a; // SidecarMessage.ack (3, length-delimited)
  buf[1] = inner;
  if (version !== 0) {
    buf[2] = 0x08;
    writeVarint(buf, 3, version);
  }
  return buf;
}

function readVarint(buf: Uint8Array, pos: number): [value: number, next: number] {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new Error("truncated varint");
    const b = buf[pos++]!;
    value += (b & 0x7f) * mul;
    if (b < 0x80) return [value, pos];
    mul *= 128;
  }
  throw new Error("varint too long");
}

function skipField(buf: Uint8Array, pos: number, wireType: number): number {
  switch (wireType) {
    case 0:
      return readVarint(buf, pos)[1];
    case 1:
      return pos + 8;
    case 2: {
      const [len, next] = readVarint(buf, pos);
      return next + len;
    }
    case 5:
      return pos + 4;
    default:
      throw new Error(`unsupported wire type ${wireType}`);
  }
}

/**
 * The version of the decision set in a serialised ControlMessage without decoding the rest;
 * undefined when the message carries no decision set. Throws on malformed bytes.
 */
export function decisionVersionOf(buf: Uint8Array): number | undefined {
  let pos = 0;
  let version: number | undefined;
  while (pos < buf.length) {
    const [tag, afterTag] = readVarint(buf, pos);
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field === 1 && wireType === 2) {
      // ControlMessage.decisions: scan the DecisionSet for version (field 1, varint).
      const [len, start] = readVarint(buf, afterTag);
      const end = start + len;
      if (end > buf.length) throw new Error("truncated decision set");
      version = 0;
      let p = start;
      while (p < end) {
        const [t, afterT] = readVarint(buf, p);
        if (t === 0x08) {
          const [v, next] = readVarint(buf, afterT);
          version = v; // last one wins, as in protobuf
          p = next;
        } else {
          p = skipField(buf, afterT, t & 7);
        }
      }
      pos = end;
    } else {
      pos = skipField(buf, afterTag, wireType);
    }
  }
  return version;
}

function runFleet(config: FleetConfig, send: (m: FleetMessage) => void): () => void {
  const stats: FleetStats = { reportsSent: 0, decisionsReceived: 0, streamErrors: 0, errorSamples: [], loopDelayP99Ms: 0, loopDelayMaxMs: 0 };
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const perVersion = new Map<number, { count: number; lastAtMs: number }>();
  const ackBytes = new Map<number, Buffer>();
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
  const clusterFields = (faulty: boolean) =>
    encodeClusterFields(
      config.clusters.map((cluster) =>
        create(ClusterWindowSchema, {
          cluster,
          requests: config.requestsPerWindow,
          errors5xx: faulty && cluster === config.faultCluster ? config.requestsPerWindow : 0,
          totalLatency: healthyHist,
        }),
      ),
    );
  const healthyFields = clusterFields(false);
  const faultyFields = config.faultCluster === undefined ? healthyFields : clusterFields(true);
  const noteError = (msg: string) => {
    stats.streamErrors++;
    if (stats.errorSamples.length < 5) stats.errorSamples.push(msg);
  };
  const ackFor = (version: number): Buffer => {
    let bytes = ackBytes.get(version);
    if (bytes === undefined) {
      bytes = encodeAckMessage(version);
      ackBytes.set(version, bytes);
    }
    return bytes;
  };

  interface Stream {
    call: grpc.ClientDuplexStream<Uint8Array, Buffer>;
    sequence: number;
    enforced: number;
  }
  const streams: Stream[] = [];
  for (let i = 0; i < config.sidecars; i++) {
    const channelIndex = Math.floor(i / config.streamsPerChannel);
    if (clients[channelIndex] === undefined) {
      const targets = config.targets ?? [config.target];
      clients[channelIndex] = new grpc.Client(targets[channelIndex % targets.length]!, grpc.credentials.createInsecure(), {
        "grpc.use_local_subchannel_pool": 1,
        "grpc.max_receive_message_length": 4 * 1024 * 1024,
      });
    }
    const md = new grpc.Metadata();
    if (config.token) md.set("authorization", `Bearer ${config.token}`);
    const call = clients[channelIndex]!.makeBidiStreamRequest<Uint8Array, Buffer>(CONNECT_PATH, toBuffer, identity, md);
    calls.push(call);
    const stream: Stream = { call, sequence: 0, enforced: 0 };
    streams.push(stream);
    let first = true;
    call.on("data", (bytes: Buffer) => {
      const at = hrNow();
      let version: number | undefined;
      try {
        version = decisionVersionOf(bytes);
      } catch (err) {
        noteError(`stream ${i}: malformed ControlMessage: ${(err as Error).message}`);
        return;
      }
      if (version === undefined) return;
      stats.decisionsReceived++;
      if (first) {
        first = false;
        connected++;
        if (connected === config.sidecars) send({ type: "connected", streams: connected });
      }
      stream.enforced = version;
      let v = perVersion.get(version);
      if (v === undefined) {
        v = { count: 0, lastAtMs: 0 };
        perVersion.set(version, v);
      }
      v.count++;
      if (at > v.lastAtMs) v.lastAtMs = at;
      if (v.count === config.sidecars) send({ type: "received", version, count: v.count, lastAtMs: v.lastAtMs });
      call.write(ackFor(version));
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
  }

  // Report once a second for the window just ended, 20..220 ms after the second. The streams
  // are spread evenly over SLOTS groups, one timer per group (not one per stream).
  const SLOTS = Math.min(40, Math.max(1, config.sidecars));
  const SPREAD_MS = 200;
  for (let slot = 0; slot < SLOTS; slot++) {
    const members = streams.filter((_, i) => i % SLOTS === slot);
    const offsetMs = 20 + Math.floor((slot * SPREAD_MS) / SLOTS);
    // The next window this slot reports. A tick that runs late (the process was stalled for more
    // than a window) reports every window it missed, as a filter reports each window it closed.
    let nextWindow = Math.floor(Date.now() / 1000) * 1000;
    const tick = () => {
      if (stopping) return;
      const now = Date.now();
      for (let caughtUp = 0; nextWindow + 1000 <= now && caughtUp < 5; caughtUp++) {
        const windowStart = nextWindow;
        nextWindow += 1000;
        const faulty = config.faultCluster !== undefined && Math.floor(windowStart / 1000) % config.faultEveryS < config.faultOnS;
        const fields = faulty ? faultyFields : healthyFields;
        for (const s of members) {
          s.sequence++;
          s.call.write(encodeReportMessage(windowStart, 1000, s.sequence, s.enforced, fields));
          stats.reportsSent++;
        }
      }
      if (nextWindow + 1000 <= now) nextWindow = Math.floor(now / 1000) * 1000 - 1000; // too far behind: skip
      schedule();
    };
    const schedule = () => {
      const now = Date.now();
      const next = Math.floor(now / 1000) * 1000 + 1000 + offsetMs;
      timers[slot] = setTimeout(tick, next - now);
    };
    schedule();
  }

  return () => {
    stopping = true;
    for (const t of timers) clearTimeout(t);
    for (const c of calls) c.end();
    for (const c of clients) c.close();
    loopDelay.disable();
    stats.loopDelayP99Ms = loopDelay.percentile(99) / 1e6;
    stats.loopDelayMaxMs = loopDelay.max / 1e6;
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
