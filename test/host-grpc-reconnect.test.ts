// The filter (build/filter.wasm) in the host with the @grpc/grpc-js transport, on the wall clock,
// against a real gRPC server on loopback: when the control plane comes back on the same port,
// the filter's own backoff (reconnect_max_ms) decides how soon it is back, not a gRPC channel's
// backoff that grows to minutes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server as NetServer, type Socket } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ControlMessageSchema, SidecarMessageSchema, BreakerState } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { GrpcJsTransport, ProxyWasmPlugin } from "../filter/host/index.js";
import { createLogger } from "../lib/log.js";
import { FILTER_WASM } from "./filter-support.js";

const RECONNECT_MAX_MS = 1000;
/** The filter looks at its reconnect time on each tick (window_ms 1000: once a second). */
const TICK_MS = 1000;
/** For a loaded 2-core machine that stalls for hundreds of ms at a time. */
const SLACK_MS = 3500;

const identity = (b: Buffer): Buffer => b;
const connectMethod: grpc.ServiceDefinition = {
  Connect: {
    path: "/autoglm.v1.TrafficGuard/Connect",
    requestStream: true,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

const decisionSet = Buffer.from(toBinary(ControlMessageSchema, create(ControlMessageSchema, {
  kind: { case: "decisions", value: { version: 1n, ttlMs: 30_000, clusters: [{ cluster: "llm-a", state: BreakerState.CLOSED, weight: 1 }] } },
})));

/** A minimal control plane: answers every hello with a decision set, records when hellos came. */
async function startControlPlane(port: number, hellos: number[]): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(connectMethod, {
    Connect: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on("data", (bytes: Buffer) => {
        if (fromBinary(SidecarMessageSchema, bytes).kind.case !== "hello") return;
        hellos.push(Date.now());
        call.write(decisionSet);
      });
      call.on("error", () => {});
      call.on("end", () => call.end());
    },
  });
  return await new Promise((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve({ server, port: bound })));
  });
}

/** Something on the port that takes each connection and drops it at once, noting when. */
async function startDropper(port: number, attempts: number[]): Promise<NetServer> {
  const server = createServer((socket: Socket) => {
    attempts.push(Date.now());
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return server;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, limitMs: number, what: string): Promise<void> {
  const until = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > until) assert.fail(`not within ${limitMs} ms: ${what}`);
    await sleep(20);
  }
}

test("after the control plane comes back on the same port the filter is back within reconnect_max_ms", { timeout: 90_000 }, async (t) => {
  const hellos: number[] = [];
  const first = await startControlPlane(0, hellos);
  let server = first.server;
  const port = first.port;
  const transport = new GrpcJsTransport({ clusters: { "autoglm-control-plane": `127.0.0.1:${port}` } });
  const plugin = await ProxyWasmPlugin.start({
    wasm: FILTER_WASM,
    configuration: {
      node_id: "sidecar-reconnect",
      window_ms: 1000,
      control_plane: { reconnect_base_ms: 200, reconnect_max_ms: RECONNECT_MAX_MS },
      clusters: [{ name: "llm-a", weight: 1 }],
    },
    grpc: transport,
    logLevel: "warn",
    captureLogs: true,
    logger: createLogger("test", "silent"),
  });
  let dropper: NetServer | null = null;
  try {
    await waitFor(() => hellos.length === 1, 10_000, "the first hello");

    // The control plane dies: for a while nothing listens (connection refused) ...
    server.forceShutdown();
    await sleep(8_000);
    // ... then something takes each connection and drops it, so the attempts can be seen.
    const attempts: number[] = [];
    dropper = await startDropper(port, attempts);
    const outageStart = Date.now() - 8_000;
    // Long enough for a gRPC channel's own backoff to have grown well past reconnect_max_ms.
    await waitFor(() => attempts.some((at) => at - outageStart >= 14_000), 40_000, "a connection attempt 14 s into the outage");
    await new Promise<void>((r) => dropper!.close(() => r()));
    dropper = null;
    const backAt = Date.now();
    server = (await startControlPlane(port, hellos)).server;

    const bound = RECONNECT_MAX_MS + TICK_MS + SLACK_MS;
    await waitFor(() => hellos.length >= 2, 60_000, "a hello after the restart");
    const took = hellos[1]! - backAt;
    t.diagnostic(`back ${took} ms after the control plane; ${attempts.length} attempts seen while it was dropping connections`);
    assert.ok(took <= bound, `the filter was back ${took} ms after the control plane (bound ${bound} ms)`);

    // Repeated failures were logged a few times, not once per attempt.
    const failures = plugin.logs.filter((l) => l.level === "warn" && l.message.includes("control-plane stream closed")).length;
    assert.ok(failures >= 1 && failures <= 3, `failure warnings: ${failures}`);
  } finally {
    plugin.close();
    transport.close();
    if (dropper !== null) dropper.close();
    server.forceShutdown();
  }
});
