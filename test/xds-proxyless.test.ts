// End to end: two local gRPC backends, the ADS server, and a real proxyless gRPC client
// (@grpc/grpc-js-xds, in a child process with its own bootstrap) dialing xds:///echo.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import type { ClusterDecision, DecisionSet } from "../control-plane/src/core/types.js";
import { createXdsServer, type XdsNackEvent, type XdsServer, type XdsAckEvent } from "../control-plane/src/xds/index.js";
import { startProbeBackend, type ProbeBackend } from "../control-plane/src/xds/probe/echo-service.js";

const CLIENT = fileURLToPath(new URL("../control-plane/src/xds/probe/proxyless-client.ts", import.meta.url));
/** The machine running tests may be loaded: waits are generous, assertions are about outcomes. */
const SLOW_MS = 600_000;
/** Starting a child node with tsx and @grpc/grpc-js-xds took over two minutes on a loaded 2-core machine. */
const STARTUP_MS = 600_000;

function decision(cluster: string, state: ClusterDecision["state"], weight: number): ClusterDecision {
  return { cluster, state, weight, probeFraction: 1, retryAfterS: state === "open" ? 5 : 0, reason: "", anomalyScore: 0 };
}

function decisionSet(version: number, clusters: ClusterDecision[]): DecisionSet {
  return { version, issuedAtMs: Date.now(), ttlMs: 30_000, halted: false, haltReason: "", clusters };
}

type Reply = Record<string, unknown> & { op: string };

class ProxylessClient {
  private readonly replies: Reply[] = [];
  private waiting: (() => void) | undefined;
  readonly stderr: string[] = [];

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      this.replies.push(JSON.parse(line) as Reply);
      this.waiting?.();
    });
    child.stderr.on("data", (chunk: Buffer) => this.stderr.push(chunk.toString()));
  }

  static start(service: string, adsPort: number): ProxylessClient {
    const bootstrap = {
      xds_servers: [{ server_uri: `127.0.0.1:${adsPort}`, channel_creds: [{ type: "insecure" }], server_features: ["xds_v3"] }],
      node: { id: "proxyless-test-client", locality: {} },
    };
    const child = spawn(process.execPath, ["--import", "tsx", CLIENT, service], {
      env: { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap), AUTOGLM_LOG_LEVEL: "silent" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    return new ProxylessClient(child);
  }

  async request(command: Record<string, unknown>, expect: string, timeoutMs = SLOW_MS): Promise<Reply> {
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
    return this.next(expect, timeoutMs);
  }

  async next(expect: string, timeoutMs = SLOW_MS): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = this.replies.shift();
      if (reply !== undefined) {
        assert.equal(reply.op, expect, `client answered ${JSON.stringify(reply)}; stderr: ${this.stderr.join("")}`);
        return reply;
      }
      if (this.child.exitCode !== null) assert.fail(`client exited with ${this.child.exitCode}; stderr: ${this.stderr.join("")}`);
      if (Date.now() > deadline) assert.fail(`no "${expect}" from the client within ${timeoutMs} ms; stderr: ${this.stderr.join("")}`);
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, 200);
      });
    }
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill();
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = SLOW_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let backendA: ProbeBackend;
let backendB: ProbeBackend;
let xds: XdsServer;
let client: ProxylessClient;
const acks: XdsAckEvent[] = [];
const nacks: XdsNackEvent[] = [];
const logLines: string[] = [];
let connects = 0;

before(async () => {
  backendA = await startProbeBackend("a");
  backendB = await startProbeBackend("b");
  const logger = pino({ level: "debug" }, { write: (line: string) => void logLines.push(line) });
  xds = createXdsServer({
    services: [
      {
        name: "echo",
        clusters: [
          { name: "a", endpoints: [{ address: "127.0.0.1", port: backendA.port }] },
          { name: "b", endpoints: [{ address: "127.0.0.1", port: backendB.port }] },
        ],
      },
    ],
    logger,
    hooks: {
      onAck: (event) => void acks.push(event),
      onNack: (event) => void nacks.push(event),
      onConnect: () => void (connects += 1),
    },
    initialDecisions: decisionSet(1, [decision("a", "closed", 80), decision("b", "closed", 20)]),
  });
  const port = await xds.listen("127.0.0.1:0");
  client = ProxylessClient.start("echo", port);
  await client.next("ready", STARTUP_MS);
  const warm = await client.request({ op: "warmup", timeoutMs: SLOW_MS }, "warmup");
  assert.equal(warm.ok, true, `the client never got an answer through xDS: ${JSON.stringify(warm)}`);
});

after(async () => {
  client?.stop();
  await xds?.close();
  await backendA?.close();
  await backendB?.close();
});

test("a proxyless client fetches listener, route, clusters and endpoints and acknowledges each", () => {
  const stats = xds.stats();
  assert.equal(connects, 1);
  assert.equal(stats.connectedClients, 1);
  const [status] = stats.clients;
  assert.ok(status !== undefined);
  assert.equal(status.nodeId, "proxyless-test-client");
  assert.deepEqual(status.kinds.listener?.subscribed, ["echo"]);
  assert.deepEqual(status.kinds.route?.subscribed, ["echo"]);
  assert.deepEqual([...(status.kinds.cluster?.subscribed ?? [])].sort(), ["a", "b"]);
  assert.deepEqual([...(status.kinds.endpoint?.subscribed ?? [])].sort(), ["a", "b"]);
  for (const kind of ["listener", "route", "cluster", "endpoint"] as const) {
    assert.equal(status.kinds[kind]?.ackedVersion, stats.versions[kind], `${kind} acknowledged at the current version`);
  }
  assert.equal(nacks.length, 0, `no NACK expected yet: ${JSON.stringify(nacks)}`);
});

test("with weights 80/20 the client splits 1,000 calls within 5 percentage points", async () => {
  const reply = await client.request({ op: "burst", calls: 1000, concurrency: 8 }, "burst");
  const counts = reply.counts as Record<string, number>;
  assert.equal(reply.errors, 0, `calls failed: ${JSON.stringify(reply.errorSamples)}`);
  const shareA = (counts.a ?? 0) / 1000;
  process.stdout.write(`# xds 80/20 split over 1000 calls: a=${counts.a ?? 0} b=${counts.b ?? 0}\n`);
  assert.ok(Math.abs(shareA - 0.8) <= 0.05, `share of a is ${shareA}, expected 0.80 ± 0.05 (counts ${JSON.stringify(counts)})`);
});

test("after the breaker of a cluster opens the client sends it nothing within one second", async () => {
  await client.request({ op: "start", concurrency: 4 }, "started");
  // Let traffic flow to both before the breaker opens.
  const arrivalsB = backendB.arrivals.length;
  await waitFor("calls reaching b", () => (backendB.arrivals.length > arrivalsB + 5 ? true : undefined));
  const openedAt = Date.now();
  xds.update(decisionSet(2, [decision("a", "closed", 80), decision("b", "open", 0)]));
  // Keep calling for 2.5 s, and (on a slow machine) until a calls reached a after +1 s.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  await waitFor("calls reaching a more than 1 s after the update", () =>
    backendA.arrivals.filter((at) => at >= openedAt + 1200).length >= 20 ? true : undefined,
  );
  const stopped = await client.request({ op: "stop" }, "stopped");
  const calls = stopped.calls as Array<[number, string]>;
  const lateToB = calls.filter(([sentAt, backend]) => backend === "b" && sentAt >= openedAt + 1000);
  const lateToA = calls.filter(([sentAt, backend]) => backend === "a" && sentAt >= openedAt + 1000);
  const lastToB = Math.max(...calls.filter(([, backend]) => backend === "b").map(([sentAt]) => sentAt));
  const lastArrivalB = backendB.arrivals[backendB.arrivals.length - 1] ?? 0;
  process.stdout.write(
    `# xds breaker open: last call sent to b ${lastToB - openedAt} ms after update, last arrival at b ${lastArrivalB - openedAt} ms; ${lateToA.length} calls to a after +1s\n`,
  );
  assert.equal(stopped.errors, 0, "no call fails while the route shifts");
  assert.equal(lateToB.length, 0, `${lateToB.length} calls sent to b more than 1 s after its breaker opened`);
  assert.ok(lateToA.length > 0, "traffic kept flowing (to a) after the breaker opened");
  assert.equal(xds.stats().weights.echo?.b, 0);
});

test("a config the client rejects is reported as a NACK with its detail, and is not sent again", async () => {
  const routeBefore = xds.stats().versions.route;
  await waitFor("route ACK at the current version", () =>
    xds.stats().clients[0]?.kinds.route?.ackedVersion === routeBefore ? true : undefined,
  );
  // Test hook: every weight 0, which a gRPC client rejects ("sum of weights is 0").
  xds.setResourceTransform((kind, resource) => {
    if (kind !== "route") return resource;
    const text = JSON.stringify(resource).replace(/"weight":\{"value":\d+\}/g, '"weight":{"value":0}');
    return JSON.parse(text) as typeof resource;
  });
  const rejectedVersion = xds.stats().versions.route;
  assert.notEqual(rejectedVersion, routeBefore);
  const nack = await waitFor("a NACK", () => nacks[0]);
  assert.equal(nack.kind, "route");
  assert.equal(nack.rejectedVersion, rejectedVersion);
  assert.equal(nack.keptVersion, routeBefore, "the client keeps its last accepted version");
  assert.match(nack.detail, /sum of weights is 0/);
  assert.equal(xds.stats().nacksTotal.route, 1);
  assert.equal(xds.stats().lastNack?.detail, nack.detail);
  const status = xds.stats().clients[0]?.kinds.route;
  assert.equal(status?.ackedVersion, routeBefore);
  assert.equal(status?.rejectedVersion, rejectedVersion);
  const logged = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry.msg?.toString().startsWith("xds nack"));
  assert.ok(logged !== undefined, "the NACK is logged");
  assert.equal(logged.level, 40, "at warn level");
  assert.match(String(logged.detail), /sum of weights is 0/);

  // The rejected config is not sent again: neither unprompted nor on an update that changes nothing.
  const responses = xds.stats().responsesTotal.route;
  xds.update(decisionSet(3, [decision("a", "closed", 80), decision("b", "open", 0)]));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.equal(xds.stats().responsesTotal.route, responses, "no route response after the NACK until a new version exists");
  assert.equal(nacks.length, 1);

  // The client still routes on its last accepted config (b open -> everything to a).
  const during = await client.request({ op: "burst", calls: 50, concurrency: 4 }, "burst");
  assert.deepEqual(during.counts, { a: 50 });

  // A new version is sent, accepted, and followed.
  xds.setResourceTransform(undefined);
  xds.update(decisionSet(4, [decision("a", "closed", 50), decision("b", "closed", 50)]));
  const fixed = xds.stats().versions.route;
  await waitFor("route ACK of the new version", () => (xds.stats().clients[0]?.kinds.route?.ackedVersion === fixed ? true : undefined));
  assert.equal(xds.stats().clients[0]?.kinds.route?.rejectedVersion, "");
  const afterFix = await client.request({ op: "burst", calls: 200, concurrency: 4 }, "burst");
  const counts = afterFix.counts as Record<string, number>;
  assert.ok((counts.b ?? 0) > 40, `b gets traffic again at 50/50: ${JSON.stringify(counts)}`);
});


test("a mesh-wide halt reaches a running client: every call fails with UNAVAILABLE until it is lifted", async () => {
  // Same weights as before: only the halt changes.
  const halted: DecisionSet = { ...decisionSet(5, [decision("a", "closed", 50), decision("b", "closed", 50)]), halted: true, haltReason: "drill" };
  xds.update(halted);
  const versions = xds.stats().versions;
  await waitFor("listener and route ACKs of the halt", () => {
    const kinds = xds.stats().clients[0]?.kinds;
    return kinds?.listener?.ackedVersion === versions.listener && kinds?.route?.ackedVersion === versions.route ? true : undefined;
  });
  const during = await client.request({ op: "burst", calls: 20, concurrency: 4 }, "burst");
  process.stdout.write(`# xds halt on a running client: ${during.errors as number} of 20 calls failed; ${JSON.stringify(during.errorSamples)}\n`);
  assert.equal(during.errors, 20, `every call fails while halted: ${JSON.stringify(during)}`);
  assert.match(JSON.stringify(during.errorSamples), /UNAVAILABLE|Fault injected/);

  xds.update(decisionSet(6, [decision("a", "closed", 50), decision("b", "closed", 50)]));
  const resumed = xds.stats().versions;
  await waitFor("listener and route ACKs of the resume", () => {
    const kinds = xds.stats().clients[0]?.kinds;
    return kinds?.listener?.ackedVersion === resumed.listener && kinds?.route?.ackedVersion === resumed.route ? true : undefined;
  });
  const after = await client.request({ op: "burst", calls: 20, concurrency: 4 }, "burst");
  assert.equal(after.errors, 0, `calls succeed again after the halt is lifted: ${JSON.stringify(after.errorSamples)}`);
});
