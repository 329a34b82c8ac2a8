// Mesh-wide host ejection over xDS: sidecars report each endpoint's requests over Envoy's load
// reporting service (LRS) on a real gRPC socket, the control plane judges them
// (control-plane/src/xds/host-health.ts), and EDS serves the host it ejects as UNHEALTHY.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { ADS_SERVICE, HostHealth, LRS_SERVICE, TYPE_URL, createXdsServer, decodeMessage, endpointLoads, type EndpointLoad, type XdsServer } from "../control-plane/src/xds/index.js";
import { TO_OBJECT, envoyRoot } from "../control-plane/src/xds/protos.js";
import type { DecodedLoadStatsRequest } from "../control-plane/src/xds/lrs.js";

const ENDPOINTS = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"].map((address) => ({ address, port: 8000 }));
const CLUSTERS = [{ name: "llm-a", endpoints: ENDPOINTS }, { name: "llm-b", endpoints: [{ address: "10.0.1.1", port: 8000 }] }];
const LIGHT = new Map([["llm-a", { offeredRps: 10 }], ["llm-b", { offeredRps: 10 }]]);

/** One sidecar's report as Envoy encodes it: per endpoint, successful and 5xx answers, and the requests in flight at the report. */
function report(nodeId: string, perEndpoint: Array<[address: string, successful: number, errors: number, inProgress?: number]>): Record<string, unknown> {
  return {
    node: { id: nodeId, user_agent_name: "envoy" },
    cluster_stats: [{
      cluster_name: "llm-a",
      upstream_locality_stats: [{
        locality: {},
        upstream_endpoint_stats: perEndpoint.map(([address, successful, errors, inProgress = 0]) => ({
          address: { socket_address: { address, port_value: 8000 } },
          total_successful_requests: successful,
          total_error_requests: errors,
          total_requests_in_progress: inProgress,
          total_issued_requests: successful + errors,
        })),
      }],
      load_report_interval: { seconds: 1 },
    }],
  };
}

describe("what a load report says about each endpoint", () => {
  const encodeDecode = (message: Record<string, unknown>): DecodedLoadStatsRequest => {
    const type = envoyRoot().lookupType("envoy.service.load_stats.v3.LoadStatsRequest");
    return type.toObject(type.decode(type.encode(type.fromObject(message)).finish()), TO_OBJECT) as DecodedLoadStatsRequest;
  };
  it("gives every endpoint's cluster, address, successful and failed requests, and its requests in flight", () => {
    assert.deepEqual(endpointLoads(encodeDecode(report("s1", [["10.0.0.1", 90, 10, 7], ["10.0.0.2", 100, 0]]))), [
      { cluster: "llm-a", address: "10.0.0.1", port: 8000, successful: 90, errors: 10, issued: 100, inProgress: 7 },
      { cluster: "llm-a", address: "10.0.0.2", port: 8000, successful: 100, errors: 0, issued: 100, inProgress: 0 },
    ]);
  });
  it("refuses a count past what it can add exactly (a uint64 near its top), naming the field", () => {
    const huge = report("s1", [["10.0.0.1", 1, 0]]);
    const endpoint = ((huge.cluster_stats as Array<{ upstream_locality_stats: Array<{ upstream_endpoint_stats: Array<Record<string, unknown>> }> }>)[0]!.upstream_locality_stats[0]!.upstream_endpoint_stats[0])!;
    endpoint.total_requests_in_progress = "18446744073709551615";
    assert.throws(() => endpointLoads(encodeDecode(huge)), /upstream_endpoint_stats\[0\]\.total_requests_in_progress: expected a non-negative integer/);
  });
  it("leaves out endpoints that are not socket addresses, and reports without endpoint stats give nothing", () => {
    const pipe = { node: { id: "s1" }, cluster_stats: [{ cluster_name: "llm-a", upstream_locality_stats: [{ upstream_endpoint_stats: [{ address: { pipe: { path: "/tmp/x" } }, total_successful_requests: 5 }] }] }] };
    assert.deepEqual(endpointLoads(encodeDecode(pipe)), []);
    assert.deepEqual(endpointLoads(encodeDecode({ node: { id: "s1" } })), []);
  });
});

describe("host health from the reports of many sidecars", () => {
  it("ejects the host failing a fifth of its requests only once the reports of every sidecar together show it two rounds in a row", () => {
    const health = new HostHealth(CLUSTERS);
    // Ten sidecars, each seeing few requests per host: no single one has enough to judge.
    const round = (): void => {
      for (let s = 0; s < 10; s++) {
        const loads: EndpointLoad[] = ENDPOINTS.map((e, i) => ({ cluster: "llm-a", address: e.address, port: 8000, successful: i === 2 ? 8 : 10, errors: i === 2 ? 2 : 0, issued: 10, inProgress: 1 }));
        health.addLoads(loads);
      }
    };
    round();
    assert.deepEqual(health.judge(1, LIGHT), []);
    round();
    const events = health.judge(2, LIGHT);
    assert.deepEqual(events.map((e) => [e.kind, e.cluster, e.endpoint]), [["eject", "llm-a", "10.0.0.3:8000"]]);
    assert.deepEqual([...(health.unhealthy().get("llm-a") ?? [])], ["10.0.0.3:8000"]);
  });
  it("ejects the host holding ten times its share of requests in flight (slow, answering 200s) while the cluster misses its latency objective, and not while it meets it", () => {
    // Ten sidecars, 10 requests per host each per round; each holds one request in flight per
    // healthy host at its report and ten on the slow one: a tenfold mean latency, Little's law.
    const round = (health: HostHealth): void => {
      for (let s = 0; s < 10; s++) health.addLoads(ENDPOINTS.map((e, i) => ({ cluster: "llm-a", address: e.address, port: 8000, successful: 10, errors: 0, issued: 10, inProgress: i === 1 ? 10 : 1 })), `sidecar-${s}`);
    };
    const judgeTwice = (slowShare: number): string[] => {
      const health = new HostHealth(CLUSTERS);
      const loads = new Map([["llm-a", { offeredRps: 10, slowShare }]]);
      round(health);
      health.judge(1, loads);
      round(health);
      return health.judge(2, loads).map((e) => `${e.kind} ${e.endpoint} ${e.reason}`);
    };
    assert.deepEqual(judgeTwice(0.2), ["eject 10.0.0.2:8000 latency"]);
    assert.deepEqual(judgeTwice(0.005), []);
  });
  it("takes a sidecar's requests in flight as the mean over its reports in a round (a gauge read at each), not their sum, an empty report counting as one", () => {
    // One sidecar, four reports per 1-s round. Host 10.0.0.2 is sent 40 requests a second and
    // holds 10 in flight at each report: a mean latency of 0.25 s by Little's law (summed over
    // the four reports it would read as 1 s). Its peers hold 1: ten times faster.
    const host = (i: number, inFlight: number, issued: number): EndpointLoad => ({ cluster: "llm-a", address: ENDPOINTS[i]!.address, port: 8000, successful: issued, errors: 0, issued, inProgress: inFlight });
    const everyReport = (): EndpointLoad[] => ENDPOINTS.map((_, i) => host(i, i === 1 ? 10 : 1, 10));
    const cases: Array<{ name: string; reports: () => EndpointLoad[][]; objectiveMs: number; ejected: boolean }> = [
      { name: "four full reports, objective 500 ms", reports: () => [everyReport(), everyReport(), everyReport(), everyReport()], objectiveMs: 500, ejected: false },
      { name: "four full reports, objective 200 ms", reports: () => [everyReport(), everyReport(), everyReport(), everyReport()], objectiveMs: 200, ejected: true },
      { name: "two reports with twice the counts and two empty ones, objective 500 ms", reports: () => [ENDPOINTS.map((_, i) => host(i, i === 1 ? 20 : 2, 20)), ENDPOINTS.map((_, i) => host(i, i === 1 ? 20 : 2, 20)), [], []], objectiveMs: 500, ejected: false },
    ];
    for (const c of cases) {
      const health = new HostHealth(CLUSTERS);
      const loads = new Map([["llm-a", { offeredRps: 160, latencyObjectiveMs: c.objectiveMs }]]);
      for (let t = 0; t < 3; t++) {
        for (const report of c.reports()) health.addLoads(report, "sidecar-1");
        health.judge(t, loads);
      }
      assert.equal(health.isUnhealthy(0, 1), c.ejected, c.name);
    }
  });
  it("counts reports of endpoints it does not serve, and ignores them", () => {
    const health = new HostHealth(CLUSTERS);
    health.addLoads([{ cluster: "llm-a", address: "10.9.9.9", port: 8000, successful: 1, errors: 1, issued: 2, inProgress: 0 }, { cluster: "other", address: "10.0.0.1", port: 8000, successful: 1, errors: 0, issued: 1, inProgress: 0 }]);
    assert.equal(health.unknownEndpointReports, 2);
  });
});

describe("LRS and EDS on the wire", () => {
  let xds: XdsServer;
  let client: grpc.Client;
  const health = new HostHealth(CLUSTERS);
  const logLines: string[] = [];

  before(async () => {
    xds = createXdsServer({
      services: [{ name: "llm", clusters: CLUSTERS }],
      logger: pino({ level: "debug" }, { write: (line: string) => void logLines.push(line) }),
      loadReports: { intervalMs: 1500, onLoads: (_node, loads) => health.addLoads(loads) },
    });
    const port = await xds.listen("127.0.0.1:0");
    client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    await xds?.close();
  });

  async function until(what: string, check: () => boolean): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!check()) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it("asks each reporting sidecar for every cluster at endpoint granularity, and EDS serves the host it ejects as UNHEALTHY", async () => {
    const root = envoyRoot();
    const lrsRequest = root.lookupType("envoy.service.load_stats.v3.LoadStatsRequest");
    const lrsResponse = root.lookupType("envoy.service.load_stats.v3.LoadStatsResponse");
    const responses: Array<Record<string, unknown>> = [];
    const lrs = client.makeBidiStreamRequest(
      `/${LRS_SERVICE}/StreamLoadStats`,
      (value: Record<string, unknown>) => Buffer.from(lrsRequest.encode(lrsRequest.fromObject(value)).finish()),
      (bytes: Buffer) => lrsResponse.toObject(lrsResponse.decode(bytes), TO_OBJECT) as Record<string, unknown>,
    );
    lrs.on("data", (m: Record<string, unknown>) => responses.push(m));
    lrs.on("error", () => {});
    // Envoy's first message carries its node and no stats.
    lrs.write({ node: { id: "sidecar-1", user_agent_name: "envoy" } });
    await until("the LoadStatsResponse", () => responses.length === 1);
    assert.deepEqual(responses[0], { clusters: [], send_all_clusters: true, load_reporting_interval: { seconds: "1", nanos: 500_000_000 }, report_endpoint_granularity: true });

    const bad: Array<[string, number, number]> = [["10.0.0.1", 100, 0], ["10.0.0.2", 99, 1], ["10.0.0.3", 70, 30], ["10.0.0.4", 100, 0]];
    lrs.write(report("sidecar-1", bad));
    await until("the first report", () => xds.stats().loadReportsTotal === 1);
    health.judge(1, LIGHT);
    lrs.write(report("sidecar-1", bad));
    await until("the second report", () => xds.stats().loadReportsTotal === 2);
    health.judge(2, LIGHT);
    xds.setUnhealthyEndpoints(health.unhealthy());
    assert.deepEqual(xds.stats().unhealthyEndpoints, { "llm-a": ["10.0.0.3:8000"] });

    const eds = client.makeBidiStreamRequest(
      `/${ADS_SERVICE}/StreamAggregatedResources`,
      (value: Record<string, unknown>) => {
        const t = root.lookupType("envoy.service.discovery.v3.DiscoveryRequest");
        return Buffer.from(t.encode(t.fromObject(value)).finish());
      },
      (bytes: Buffer) => {
        const t = root.lookupType("envoy.service.discovery.v3.DiscoveryResponse");
        return t.toObject(t.decode(bytes), TO_OBJECT) as { resources: Array<{ value: Uint8Array }> };
      },
    );
    const assignments: Array<{ resources: Array<{ value: Uint8Array }> }> = [];
    eds.on("data", (m: { resources: Array<{ value: Uint8Array }> }) => assignments.push(m));
    eds.on("error", () => {});
    eds.write({ node: { id: "sidecar-1", user_agent_name: "envoy" }, type_url: TYPE_URL.endpoint, resource_names: ["llm-a"] });
    await until("the ClusterLoadAssignment", () => assignments.length === 1);
    const assignment = decodeMessage(TYPE_URL.endpoint, assignments[0]!.resources[0]!.value) as {
      endpoints: Array<{ lb_endpoints: Array<{ endpoint: { address: { socket_address: { address: string } } }; health_status: string }> }>;
    };
    assert.deepEqual(
      assignment.endpoints[0]!.lb_endpoints.map((e) => [e.endpoint.address.socket_address.address, e.health_status]),
      [["10.0.0.1", "HEALTHY"], ["10.0.0.2", "HEALTHY"], ["10.0.0.3", "UNHEALTHY"], ["10.0.0.4", "HEALTHY"]],
    );
    lrs.end();
    eds.end();
  });

  it("drops a report it cannot read, says why, and keeps the stream", async () => {
    // total_error_requests far beyond what a count can be (2^60): not a safe integer.
    const lrsRequest = envoyRoot().lookupType("envoy.service.load_stats.v3.LoadStatsRequest");
    const lrs = client.makeBidiStreamRequest(
      `/${LRS_SERVICE}/StreamLoadStats`,
      (value: Record<string, unknown>) => Buffer.from(lrsRequest.encode(lrsRequest.fromObject(value)).finish()),
      (bytes: Buffer) => bytes,
    );
    lrs.on("data", () => {});
    lrs.on("error", () => {});
    const before = xds.stats().loadReportsTotal;
    const huge = report("sidecar-2", [["10.0.0.1", 1, 0]]);
    (((huge.cluster_stats as Array<Record<string, unknown>>)[0]!.upstream_locality_stats as Array<Record<string, unknown>>)[0]!.upstream_endpoint_stats as Array<Record<string, unknown>>)[0]!.total_error_requests = "1152921504606846976";
    lrs.write(huge);
    lrs.write(report("sidecar-2", [["10.0.0.1", 1, 0]]));
    await until("the good report after the bad one", () => xds.stats().loadReportsTotal === before + 1);
    assert.ok(logLines.some((l) => l.includes("lrs report dropped") && l.includes("total_error_requests")), "the log names the field");
    lrs.end();
  });
});
