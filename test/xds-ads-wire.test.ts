// The ADS server over a real gRPC socket, driven by a hand-written client that speaks like an
// Envoy (node.user_agent_name "envoy", wildcard LDS/CDS): what goes on the wire, per the xDS protocol.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import type { DecisionSet } from "../control-plane/src/core/types.js";
import { ADS_SERVICE, createXdsServer, decodeMessage, TYPE_URL, type XdsServer } from "../control-plane/src/xds/index.js";
import { TO_OBJECT, envoyRoot } from "../control-plane/src/xds/protos.js";

interface Response {
  version_info: string;
  type_url: string;
  nonce: string;
  resources: Array<{ type_url: string; value: Uint8Array }>;
  control_plane: { identifier: string } | null;
}

class RawAdsStream {
  private readonly received: Response[] = [];
  private readonly call: grpc.ClientDuplexStream<Record<string, unknown>, Response>;
  status: grpc.StatusObject | undefined;

  constructor(client: grpc.Client, method = "StreamAggregatedResources") {
    const root = envoyRoot();
    const request = root.lookupType("envoy.service.discovery.v3.DiscoveryRequest");
    const response = root.lookupType("envoy.service.discovery.v3.DiscoveryResponse");
    this.call = client.makeBidiStreamRequest(
      `/${ADS_SERVICE}/${method}`,
      (value: Record<string, unknown>) => Buffer.from(request.encode(request.fromObject(value)).finish()),
      (bytes: Buffer) => response.toObject(response.decode(bytes), TO_OBJECT) as Response,
    );
    this.call.on("data", (message: Response) => this.received.push(message));
    this.call.on("status", (status) => (this.status = status));
    this.call.on("error", () => {});
  }

  send(request: Record<string, unknown>): void {
    this.call.write(request);
  }

  async next(timeoutMs = 30_000): Promise<Response> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length === 0) {
      if (Date.now() > deadline) assert.fail("no DiscoveryResponse in time");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.received.shift() as Response;
  }

  /** Waits `ms` and returns everything received meanwhile. */
  async drain(ms: number): Promise<Response[]> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.received.splice(0);
  }

  end(): void {
    this.call.end();
  }
}

const ENVOY_NODE = { id: "envoy-1", cluster: "edge", user_agent_name: "envoy" };

function decisions(version: number, a: number, b: number, bState: "closed" | "open" = "closed"): DecisionSet {
  return {
    version,
    issuedAtMs: 0,
    ttlMs: 30_000,
    halted: false,
    haltReason: "",
    clusters: [
      { cluster: "a", state: "closed", weight: a, probeFraction: 1, retryAfterS: 0, reason: "", anomalyScore: 0 },
      { cluster: "b", state: bState, weight: b, probeFraction: 1, retryAfterS: 0, reason: "", anomalyScore: 0 },
    ],
  };
}

let xds: XdsServer;
let client: grpc.Client;
const logLines: string[] = [];

before(async () => {
  xds = createXdsServer({
    services: [
      {
        name: "llm",
        clusters: [
          { name: "a", endpoints: [{ address: "127.0.0.1", port: 18001 }], http2: true },
          { name: "b", endpoints: [{ address: "127.0.0.1", port: 18002 }] },
        ],
        envoyListener: { address: "0.0.0.0", port: 10000 },
      },
    ],
    logger: pino({ level: "debug" }, { write: (line: string) => void logLines.push(line) }),
    initialDecisions: decisions(1, 80, 20),
  });
  const port = await xds.listen("127.0.0.1:0");
  client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

after(async () => {
  client?.close();
  await xds?.close();
});

test("an Envoy subscribing with wildcards gets socket listeners and all clusters, and its ACKs are counted", async () => {
  const pushed: Response[] = [];
  const stream = new RawAdsStream(client);
  stream.send({ node: ENVOY_NODE, type_url: TYPE_URL.cluster, resource_names: [] });
  const clusters = await stream.next();
  assert.equal(clusters.type_url, TYPE_URL.cluster);
  assert.equal(clusters.control_plane?.identifier, "autoglm-control-plane");
  assert.deepEqual(clusters.resources.map((r) => (decodeMessage(TYPE_URL.cluster, r.value) as { name: string }).name).sort(), ["a", "b"]);
  const a = clusters.resources.map((r) => decodeMessage(TYPE_URL.cluster, r.value) as { name: string; typed_extension_protocol_options: Record<string, { type_url: string; value: Uint8Array }> }).find((c) => c.name === "a");
  const http = a?.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"];
  assert.equal(http?.type_url, TYPE_URL.httpProtocolOptions);
  assert.ok((http?.value.length ?? 0) > 0, "the HTTP/2 protocol options are packed, not empty");

  stream.send({ type_url: TYPE_URL.cluster, resource_names: [], version_info: clusters.version_info, response_nonce: clusters.nonce });
  stream.send({ type_url: TYPE_URL.listener, resource_names: [] });
  const listeners = await stream.next();
  assert.equal(listeners.type_url, TYPE_URL.listener);
  const listener = decodeMessage(TYPE_URL.listener, listeners.resources[0]?.value ?? new Uint8Array()) as { name: string; address: { socket_address: { port_value: number } } };
  assert.equal(listener.name, "llm");
  assert.equal(listener.address.socket_address.port_value, 10000);
  stream.send({ type_url: TYPE_URL.listener, resource_names: [], version_info: listeners.version_info, response_nonce: listeners.nonce });

  stream.send({ type_url: TYPE_URL.route, resource_names: ["llm"] });
  const routes = await stream.next();
  stream.send({ type_url: TYPE_URL.route, resource_names: ["llm"], version_info: routes.version_info, response_nonce: routes.nonce });
  const acked = Date.now() + 30_000;
  while (xds.stats().clients.find((c) => c.nodeId === "envoy-1")?.kinds.route?.ackedVersion !== routes.version_info && Date.now() < acked) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.deepEqual(await stream.drain(100), [], "ACKs are not answered");
  const status = xds.stats().clients.find((c) => c.nodeId === "envoy-1");
  assert.equal(status?.flavor, "envoy");
  assert.equal(status?.kinds.cluster?.ackedVersion, clusters.version_info);
  assert.equal(status?.kinds.listener?.ackedVersion, listeners.version_info);
  assert.equal(status?.kinds.route?.ackedVersion, routes.version_info);
  assert.deepEqual(status?.kinds.cluster?.subscribed, ["*"]);

  // A decision update pushes a new route version and nothing else.
  xds.update(decisions(2, 80, 20, "open"));
  await stream.next().then((first) => stream.drain(300).then((rest) => pushed.push(first, ...rest)));
  assert.deepEqual(pushed.map((r) => r.type_url), [TYPE_URL.route]);
  const route = decodeMessage(TYPE_URL.route, pushed[0]?.resources[0]?.value ?? new Uint8Array()) as {
    virtual_hosts: Array<{ routes: Array<{ route: { weighted_clusters: { clusters: Array<{ name: string; weight: { value: number } }> } } }> }>;
  };
  assert.deepEqual(route.virtual_hosts[0]?.routes[0]?.route.weighted_clusters.clusters.map((c) => c.weight.value), [80, 0]);
  stream.end();
});

test("a NACK over the wire is counted, logged with its detail, and not answered", async () => {
  const stream = new RawAdsStream(client);
  stream.send({ node: { id: "envoy-2", user_agent_name: "envoy" }, type_url: TYPE_URL.route, resource_names: ["llm"] });
  const first = await stream.next();
  stream.send({
    type_url: TYPE_URL.route,
    resource_names: ["llm"],
    version_info: "",
    response_nonce: first.nonce,
    error_detail: { code: 3, message: "Proto constraint validation failed: made up for the test" },
  });
  const deadline = Date.now() + 30_000;
  while (xds.stats().lastNack?.nodeId !== "envoy-2" && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const after = await stream.drain(500);
  stream.end();
  assert.deepEqual(after, [], "a NACK is not answered with the same config");
  const nack = xds.stats().lastNack;
  assert.equal(nack?.nodeId, "envoy-2");
  assert.equal(nack?.kind, "route");
  assert.equal(nack?.rejectedVersion, first.version_info);
  assert.equal(nack?.keptVersion, "");
  assert.equal(nack?.code, 3);
  assert.match(nack?.detail ?? "", /made up for the test/);
  const line = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.nodeId === "envoy-2" && String(e.msg).startsWith("xds nack"));
  assert.match(String(line?.detail), /made up for the test/);
});

async function waitForConnected(count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (xds.stats().connectedClients !== count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(xds.stats().connectedClients, count);
}

test("connected clients are counted while their streams are open", async () => {
  await waitForConnected(0); // the streams of the tests before have ended
  const before = 0;
  const stream = new RawAdsStream(client);
  stream.send({ node: { id: "envoy-3", user_agent_name: "envoy" }, type_url: TYPE_URL.listener, resource_names: [] });
  await stream.next();
  assert.equal(xds.stats().connectedClients, before + 1);
  stream.end();
  await waitForConnected(before);
});

test("incremental (delta) xDS is refused with UNIMPLEMENTED and a message saying what to use", async () => {
  const stream = new RawAdsStream(client, "DeltaAggregatedResources");
  stream.send({ node: ENVOY_NODE, type_url: TYPE_URL.cluster });
  const deadline = Date.now() + 10_000;
  while (stream.status === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(stream.status?.code, grpc.status.UNIMPLEMENTED);
  assert.match(stream.status?.details ?? "", /state-of-the-world/);
});

test("decision sets older than the current one are ignored", () => {
  const version = xds.stats().versions.route;
  xds.update(decisions(1, 10, 90));
  assert.equal(xds.stats().versions.route, version);
  assert.equal(xds.stats().decisionVersion, 2);
});
